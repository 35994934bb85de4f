// Command genrepo writes a generated job repository of N jobs and the
// equivalent Jenkins Job Builder YAML, for test/bench/compare-jjb.sh.
//
//	go run ./test/bench/genrepo -n 1000 -repo /tmp/repo -jjb /tmp/jjb
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/jobctl/jobctl/test/benchrepo"
)

func main() {
	n := flag.Int("n", 1000, "number of jobs")
	repo := flag.String("repo", "", "write the jobctl repository to `DIR`")
	jjb := flag.String("jjb", "", "write the Jenkins Job Builder YAML to `DIR`")
	flag.Parse()
	if *repo == "" && *jjb == "" {
		fmt.Fprintln(os.Stderr, "genrepo: give -repo DIR, -jjb DIR or both")
		os.Exit(2)
	}
	if *repo != "" {
		if err := benchrepo.Write(*repo, *n); err != nil {
			fmt.Fprintln(os.Stderr, "genrepo:", err)
			os.Exit(1)
		}
	}
	if *jjb != "" {
		if err := os.MkdirAll(*jjb, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "genrepo:", err)
			os.Exit(1)
		}
		if err := benchrepo.WriteJJB(*jjb, *n); err != nil {
			fmt.Fprintln(os.Stderr, "genrepo:", err)
			os.Exit(1)
		}
	}
}
