// reprocess_batch: run process_upload, as a quote, for every model under
// MODELS_PREFIX and store a summary. Models run one after the other: a
// batch must not starve the uploads customers are waiting for.
//
// The prefix reaches the shell through the environment, never through the
// script text.

import groovy.json.JsonOutput

def models = []       // s3:// URLs
def prices = [:]      // url -> price in EUR
def failed = []       // urls
def storeFailure = null

node {
  deleteDir()
  stage('list') {
    def listing = ''
    withEnv(['PREFIX=' + params.MODELS_PREFIX]) {
      listing = sh(returnStdout: true, script: 'aws s3 ls --recursive "$PREFIX"')
    }
    def bucket = bucketOf(params.MODELS_PREFIX)
    for (line in listing.readLines()) {
      // "2024-05-01 10:00:00     1234 prefix/part.stl"
      def fields = line.trim().split(/\s+/, 4)
      if (fields.size() == 4 && fields[3].toLowerCase().endsWith('.stl')) {
        models << 's3://' + bucket + '/' + fields[3]
      }
    }
    echo "${models.size()} models under ${params.MODELS_PREFIX}"
  }

  stage('process') {
    for (model in models) {
      def r = build job: 'process_upload', propagate: false, parameters: [
        string(name: 'SOURCE_S3_FILE_PATH', value: model),
        string(name: 'MATERIAL', value: params.MATERIAL),
        string(name: 'PRINTER', value: params.PRINTER)
      ]
      def report = readReport(r, 'process_upload')
      def price = report.data instanceof Map ? report.data.price : null
      if (report.status == 'SUCCESS' && price != null) {
        prices[model] = price
      } else {
        failed << model
        echo "${model}: ${report.reason}"
      }
    }
  }

  def summary = [models: models.size(), succeeded: prices.size(), failed: failed, prices: prices]
  stage('store') {
    def r = build job: 'store_result', propagate: false, parameters: [
      string(name: 'RESULT_URL', value: params.RESULT_URL),
      string(name: 'RESULT_JSON', value: JsonOutput.toJson(summary))
    ]
    storeFailure = firstFailure([store_result: readReport(r, 'store_result')], ['store_result'])
  }

  def status = 'SUCCESS'
  def reason = ''
  if (storeFailure) {
    status = 'FAILURE'
    reason = 'store_result failed: ' + storeFailure.reason
  } else if (models && !prices) {
    status = 'FAILURE'
    reason = "all ${models.size()} models failed"
  } else if (failed) {
    status = 'UNSTABLE'
    reason = "${failed.size()} of ${models.size()} models failed"
  }
  stage('report') {
    writeFile file: 'report.json', text: JsonOutput.toJson([process: 'reprocess_batch', status: status,
        reason: reason, data: summary, log: '', duration_ms: 0, attempts: 1])
    archiveArtifacts artifacts: 'report.json'
  }
  if (status == 'FAILURE') {
    error(reason)
  }
  if (status == 'UNSTABLE') {
    unstable(reason)
  }
}

// bucketOf returns the bucket of an s3://bucket/prefix URL.
def bucketOf(String url) {
  if (!url.startsWith('s3://')) {
    error('MODELS_PREFIX must be an s3://bucket/prefix URL, got ' + url)
  }
  return url.substring(5).split('/', 2)[0]
}
