#!/usr/bin/python3
"""Drive a Jenkins master with python-jenkins (Debian's python3-jenkins) the
way its users do, and check what it answers. Usage:

    python_jenkins_check.py URL [USER TOKEN]

Prints one "ok <what>" line per check and exits 1 at the first failure,
with the reason on stderr."""

import sys
import time

import jenkins

FREESTYLE = """<?xml version='1.0' encoding='UTF-8'?>
<project>
  <description>{desc}</description>
  <keepDependencies>false</keepDependencies>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition>
          <name>GREETING</name>
          <defaultValue>hello</defaultValue>
        </hudson.model.StringParameterDefinition>
        <hudson.model.BooleanParameterDefinition>
          <name>LOUD</name>
          <defaultValue>false</defaultValue>
        </hudson.model.BooleanParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <canRoam>true</canRoam>
  <disabled>false</disabled>
  <concurrentBuild>false</concurrentBuild>
  <builders>
    <hudson.tasks.Shell>
      <command>#!/bin/bash
echo "$GREETING from $JOB_NAME #$BUILD_NUMBER (loud: $LOUD)"
mkdir -p out &amp;&amp; echo '{{"ok": true}}' &gt; out/result.json
</command>
    </hudson.tasks.Shell>
  </builders>
  <publishers>
    <hudson.tasks.ArtifactArchiver>
      <artifacts>out/*.json</artifacts>
      <allowEmptyArchive>false</allowEmptyArchive>
    </hudson.tasks.ArtifactArchiver>
  </publishers>
  <buildWrappers/>
</project>
"""

FOLDER = """<?xml version='1.0' encoding='UTF-8'?>
<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder">
  <description>a folder</description>
  <properties/>
  <folderViews/>
  <healthMetrics/>
</com.cloudbees.hudson.plugins.folder.Folder>
"""

VIEW = """<?xml version="1.0" encoding="UTF-8"?>
<hudson.model.ListView>
  <name>{name}</name>
  <filterExecutors>false</filterExecutors>
  <filterQueue>false</filterQueue>
  <properties class="hudson.model.View$PropertyList"/>
  <jobNames>
    <comparator class="hudson.util.CaseInsensitiveComparator"/>
    {jobs}
  </jobNames>
  <jobFilters/>
  <columns/>
  <recurse>false</recurse>
</hudson.model.ListView>
"""


def fail(msg):
    sys.stderr.write("python-jenkins check failed: " + msg + "\n")
    sys.exit(1)


def check(cond, what, detail=""):
    if not cond:
        fail(what + (": " + str(detail) if detail else ""))
    print("ok", what)


def wait_for(fn, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def main():
    url = sys.argv[1]
    user = sys.argv[2] if len(sys.argv) > 2 else None
    token = sys.argv[3] if len(sys.argv) > 3 else None
    server = jenkins.Jenkins(url, username=user, password=token, timeout=30)

    if user:
        # Anonymous has no /me on Jenkins (403), so only when logged in.
        # It comes first: get_version does not log in by itself (against a
        # secured Jenkins, python-jenkins only sends credentials once
        # another call has).
        who = server.get_whoami()
        check(who.get("id") == user, "get_whoami", who)
    version = server.get_version()
    check(bool(version), "get_version", version)

    server.create_job("py-hello", FREESTYLE.format(desc="first"))
    check(server.job_exists("py-hello"), "create_job, job_exists")
    check(not server.job_exists("py-nope"), "job_exists of a missing job")
    names = [j["name"] for j in server.get_jobs()]
    check("py-hello" in names, "get_jobs", names)
    try:
        server.create_job("py-hello", FREESTYLE.format(desc="again"))
        fail("create_job of an existing job succeeded")
    except jenkins.JenkinsException as e:
        check("already exists" in str(e), "create_job of an existing job is refused", e)

    server.reconfig_job("py-hello", FREESTYLE.format(desc="second"))
    check("<description>second</description>" in server.get_job_config("py-hello"), "reconfig_job, get_job_config")
    info = server.get_job_info("py-hello")
    check(info["description"] == "second" and info["nextBuildNumber"] == 1, "get_job_info", info.get("description"))

    queue_id = server.build_job("py-hello", {"GREETING": "bonjour", "LOUD": "true"})
    check(isinstance(queue_id, int) and queue_id > 0, "build_job returns the queue item", queue_id)
    item = wait_for(lambda: (lambda q: q if q.get("executable") else None)(server.get_queue_item(queue_id)), "the queue item")
    number = item["executable"]["number"]
    check(number == 1, "get_queue_item has the executable", item["executable"])
    build = wait_for(lambda: (lambda b: b if not b["building"] else None)(server.get_build_info("py-hello", number)), "the build")
    check(build["result"] == "SUCCESS", "get_build_info: SUCCESS", build["result"])
    params = {p["name"]: p["value"] for a in build["actions"] if a.get("_class") == "hudson.model.ParametersAction" for p in a["parameters"]}
    check(params.get("GREETING") == "bonjour", "the build's parameters", params)
    check([a["relativePath"] for a in build["artifacts"]] == ["out/result.json"], "the build's artifacts", build["artifacts"])
    console = server.get_build_console_output("py-hello", number)
    check("bonjour from py-hello #1 (loud: true)" in console, "get_build_console_output", console)

    plugins = server.get_plugins()
    check(len(plugins) > 0 and all(p.get("version") for p in plugins.values()), "get_plugins", len(plugins))

    server.create_view("py-view", VIEW.format(name="py-view", jobs="<string>py-hello</string>"))
    check(server.view_exists("py-view"), "create_view, view_exists")
    check(any(v["name"] == "py-view" for v in server.get_views()), "get_views")
    server.reconfig_view("py-view", VIEW.format(name="py-view", jobs=""))
    check("<string>py-hello</string>" not in server.get_view_config("py-view"), "reconfig_view, get_view_config")
    server.delete_view("py-view")
    check(not server.view_exists("py-view"), "delete_view")

    server.create_job("py-folder", FOLDER)
    check(server.is_folder("py-folder"), "a folder, is_folder")
    server.create_job("py-folder/inner", FREESTYLE.format(desc="inner"))
    check(server.job_exists("py-folder/inner"), "a job in a folder")
    all_names = [j["fullname"] for j in server.get_all_jobs()]
    check("py-folder/inner" in all_names, "get_all_jobs walks folders", all_names)

    check(server.jobs_count() >= 2, "jobs_count")
    server.disable_job("py-hello")
    check(server.get_job_info("py-hello")["disabled"] is True, "disable_job")
    server.enable_job("py-hello")
    check(server.get_job_info("py-hello")["disabled"] is False, "enable_job")

    server.delete_job("py-folder/inner")
    server.delete_job("py-folder")
    server.delete_job("py-hello")
    check(not server.job_exists("py-hello") and not server.job_exists("py-folder"), "delete_job")


if __name__ == "__main__":
    main()
