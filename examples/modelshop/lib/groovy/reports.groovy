// Reading the reports that workers leave behind. Every worker build
// archives a report.json: [process, status, reason, data, log, duration_ms,
// attempts]; an orchestration decides what to do next from those.

// readReport returns the report of a finished worker build, r being what
// `build job: ..., propagate: false` returned. It is copied to
// reports/<step>/<build number>/report.json in the workspace. A build that
// left no report (it never started, or lost its agent) gets one that says so.
def readReport(r, String step) {
  def dir = 'reports/' + step + '/' + r.number
  copyArtifacts(projectName: r.fullProjectName, selector: specific("${r.number}"),
      filter: 'report.json', target: dir, optional: true)
  if (!fileExists(dir + '/report.json')) {
    return [process: step, status: 'FAILURE', data: [:],
        reason: 'build ' + r.fullProjectName + ' #' + r.number + ' ended ' + r.result + ' without a report']
  }
  return readJSON(file: dir + '/report.json')
}

// firstFailure returns [step: ..., reason: ...] for the first of steps whose
// report is missing or not SUCCESS, or null when they all succeeded.
def firstFailure(Map reports, List steps) {
  for (step in steps) {
    def report = reports[step]
    if (report == null) {
      return [step: step, reason: 'it did not run']
    }
    if (report.status != 'SUCCESS') {
      def reason = report.reason ? String.valueOf(report.reason) : 'it ended ' + report.status
      return [step: step, reason: reason]
    }
  }
  return null
}

// dataOf returns the data object of a step's report, or an empty map.
def dataOf(Map reports, String step) {
  def report = reports[step]
  if (report instanceof Map && report.data instanceof Map) {
    return report.data
  }
  return [:]
}
