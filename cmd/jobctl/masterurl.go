package main

import (
	"os"

	"github.com/jobctl/jobctl/jobs"
)

// masterURL is the master a command talks to: the --url flag, else
// JENKINS_URL, else jobctl.yaml's master.url in the repository around dir,
// else "" (master.ConfigFromEnv then takes JENKINS_URL or the local
// master). A repository that cannot be read leaves the choice to the
// environment; the command itself reports what is wrong with it.
func masterURL(flag, dir string) string {
	return pickMasterURL(flag, func() string {
		root, err := findRoot(dir)
		if err != nil {
			return ""
		}
		p, err := jobs.ReadProject(root)
		if err != nil {
			return ""
		}
		return p.MasterURL
	})
}

// pickMasterURL is the --url flag, else "" when JENKINS_URL is set (for
// master.ConfigFromEnv), else the project's master.url, which project
// returns; it is only asked for then.
func pickMasterURL(flag string, project func() string) string {
	if flag != "" || os.Getenv("JENKINS_URL") != "" {
		return flag
	}
	return project()
}
