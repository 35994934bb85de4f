// process_upload: a customer uploaded a 3D model; check it, price it and
// tell the calling application. Workers do the work; this script only
// decides what runs next, from their reports.
//
//   1 fetch_model
//   2 inspect_model    | render_thumbnail      (in parallel)
//   3 check_printability | price_model         (in parallel, from inspect's data)
//   4 register_part
//   5 store_result     (always: the report, at RESULT_S3_FILE_PATH)
// then report.json is archived and POSTed to REPORT_RETURN_URL (always).
//
// A failed step stops the later phases 1-4; the report names the step and
// its reason. Workers are called by their common names; jobctl pins each
// call to the exact version this orchestration was built and tested with.

import groovy.json.JsonOutput

def started = System.currentTimeMillis()
def reports = [:]   // step (worker name) -> its report.json
def failed = null   // [step: ..., reason: ...] of the first failed step
def phase = 'start' // for errors of this script itself
def caught = null   // such an error, rethrown at the end

node {
  deleteDir() // no reports from an earlier build in this workspace
  try {
    phase = 'fetch_model'
    stage('fetch') {
      def r = build job: 'fetch_model', propagate: false, parameters: [
        string(name: 'SOURCE', value: params.SOURCE_S3_FILE_PATH)
      ]
      reports.fetch_model = readReport(r, 'fetch_model')
    }
    failed = firstFailure(reports, ['fetch_model'])

    if (!failed) {
      phase = 'inspect_model, render_thumbnail'
      stage('inspect') {
        parallel(
          inspect_model: {
            def r = build job: 'inspect_model', propagate: false, parameters: [
              string(name: 'MODEL_URL', value: params.SOURCE_S3_FILE_PATH)
            ]
            reports.inspect_model = readReport(r, 'inspect_model')
          },
          render_thumbnail: {
            def r = build job: 'render_thumbnail', propagate: false, parameters: [
              string(name: 'MODEL_URL', value: params.SOURCE_S3_FILE_PATH)
            ]
            reports.render_thumbnail = readReport(r, 'render_thumbnail')
          }
        )
      }
      failed = firstFailure(reports, ['inspect_model', 'render_thumbnail'])
    }

    if (!failed) {
      phase = 'check_printability, price_model'
      def geometry = dataOf(reports, 'inspect_model')
      def size = geometry.bbox['size'] // [x, y, z] in mm
      stage('check and price') {
        parallel(
          check_printability: {
            def r = build job: 'check_printability', propagate: false, parameters: [
              string(name: 'SIZE_X', value: String.valueOf(size[0])),
              string(name: 'SIZE_Y', value: String.valueOf(size[1])),
              string(name: 'SIZE_Z', value: String.valueOf(size[2])),
              string(name: 'PRINTER', value: params.PRINTER)
            ]
            reports.check_printability = readReport(r, 'check_printability')
          },
          price_model: {
            def r = build job: 'price_model', propagate: false, parameters: [
              string(name: 'VOLUME_MM3', value: String.valueOf(geometry.volume_mm3)),
              string(name: 'MATERIAL', value: params.MATERIAL),
              booleanParam(name: 'RUSH', value: params.RUSH)
            ]
            reports.price_model = readReport(r, 'price_model')
          }
        )
      }
      failed = firstFailure(reports, ['check_printability', 'price_model'])
    }

    if (!failed) {
      phase = 'register_part'
      def model = dataOf(reports, 'fetch_model')
      def geometry = dataOf(reports, 'inspect_model')
      def price = dataOf(reports, 'price_model')
      def part = [
        name: model.name,
        sha256: model.sha256,
        size_bytes: model.size_bytes,
        source: params.SOURCE_S3_FILE_PATH,
        triangles: geometry.triangles,
        bbox: geometry.bbox,
        volume_mm3: geometry.volume_mm3,
        surface_area_mm2: geometry.surface_area_mm2,
        printer: params.PRINTER,
        material: params.MATERIAL,
        rush: params.RUSH,
        price: price.price,
        currency: price.currency
      ]
      stage('register') {
        def r = build job: 'register_part', propagate: false, parameters: [
          string(name: 'REGISTRATION_RETURN_URL', value: params.REGISTRATION_RETURN_URL),
          string(name: 'PART_JSON', value: JsonOutput.toJson(part))
        ]
        reports.register_part = readReport(r, 'register_part')
      }
      failed = firstFailure(reports, ['register_part'])
    }
  } catch (e) {
    // An error of this script or an abort: still store and send the report.
    caught = e
    if (!failed) {
      failed = [step: phase, reason: e.toString()]
    }
  }

  // The report, in the shape every worker's report has.
  def data = [tools_commit: params.TOOLS_COMMIT]
  def picks = [
    [key: 'volume_mm3', step: 'inspect_model'],
    [key: 'bbox', step: 'inspect_model'],
    [key: 'fits', step: 'check_printability'],
    [key: 'price', step: 'price_model'],
    [key: 'currency', step: 'price_model'],
    [key: 'part_id', step: 'register_part']
  ]
  for (pick in picks) {
    def value = dataOf(reports, pick.step)[pick.key]
    if (value != null) {
      data[pick.key] = value
    }
  }
  if (dataOf(reports, 'render_thumbnail')) {
    data.thumbnail = dataOf(reports, 'render_thumbnail')
  }
  if (failed) {
    data.failed_step = failed.step
  }
  def report = [
    process: 'process_upload',
    status: failed ? 'FAILURE' : 'SUCCESS',
    reason: failed ? failed.step + ' failed: ' + failed.reason : '',
    data: data,
    log: '',
    duration_ms: 0,
    attempts: 1
  ]

  // 5: store the report where the caller asked for it, even after a failure.
  stage('store') {
    report.duration_ms = System.currentTimeMillis() - started
    def storeFailure = null
    try {
      def r = build job: 'store_result', propagate: false, parameters: [
        string(name: 'RESULT_URL', value: params.RESULT_S3_FILE_PATH),
        string(name: 'RESULT_JSON', value: JsonOutput.toJson(report))
      ]
      reports.store_result = readReport(r, 'store_result')
      storeFailure = firstFailure(reports, ['store_result'])
    } catch (e) {
      caught = caught ?: e
      storeFailure = [step: 'store_result', reason: e.toString()]
    }
    if (storeFailure && !failed) {
      failed = storeFailure
      report.status = 'FAILURE'
      report.reason = failed.step + ' failed: ' + failed.reason
      data.failed_step = failed.step
    }
  }

  // Archive the report and send it back. The URL reaches the shell through
  // the environment, never through the script text.
  stage('report') {
    report.duration_ms = System.currentTimeMillis() - started
    // JsonOutput rather than writeJSON: the archived, stored and posted
    // reports are then the same text, and strings stay strings.
    writeFile file: 'report.json', text: JsonOutput.toJson(report)
    archiveArtifacts artifacts: 'report.json'
    def status = 0
    withEnv(['REPORT_URL=' + params.REPORT_RETURN_URL]) {
      status = sh(returnStatus: true, script: 'curl -sS --fail --retry 3 --connect-timeout 10 --max-time 60 ' +
          '-o /dev/null -w "report sent: HTTP %{http_code}\\n" ' +
          '-X POST -H "Content-Type: application/json" --data-binary @report.json "$REPORT_URL"')
    }
    if (caught) {
      throw caught
    }
    if (failed) {
      error(report.reason)
    }
    if (status != 0) {
      error('could not POST the report to REPORT_RETURN_URL (curl exit ' + status + ')')
    }
  }
}
