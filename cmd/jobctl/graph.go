package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/graph"
)

type graphOptions struct {
	Root   *rootOptions
	Format string
}

func newGraphCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &graphOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Draw component dependencies and which orchestrations call which jobs",
		Long: `Draw the job repository as a graph on stdout: the components under
components/ with an edge to each component they depend on, and the
compiled jobs with an edge from each orchestration to each job it calls.
Workers are boxes, orchestrations ellipses (stadiums in Mermaid).

--format dot (the default) writes a Graphviz digraph with one cluster for
the components and one for the jobs; --format mermaid writes a Mermaid
flowchart. The output depends only on the repository: nodes and edges are
sorted by name. graph compiles the jobs as jobctl build does, but writes
nothing, not even jobctl.lock.`,
		Example: `  # Render the graph with Graphviz
  jobctl graph | dot -Tsvg > graph.svg

  # A Mermaid flowchart, e.g. for a Markdown page
  jobctl graph --format mermaid -C examples/modelshop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return &usageError{cmd: cmd.Name(), err: err}
			}
			return graphRun(io, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", string(graph.DOT), "write the graph as `FORMAT`: "+formatList())
	return cmd
}

func formatList() string {
	var fs []string
	for _, f := range graph.Formats {
		fs = append(fs, string(f))
	}
	return strings.Join(fs, " or ")
}

func (o *graphOptions) validate() error {
	for _, f := range graph.Formats {
		if graph.Format(o.Format) == f {
			return nil
		}
	}
	return fmt.Errorf("--format %q: want %s", o.Format, formatList())
}

func graphRun(io *streams, opts *graphOptions) error {
	root, err := findRoot(opts.Root.Dir)
	if err != nil {
		return err
	}
	g, err := graph.Load(root)
	if err != nil {
		return err
	}
	return g.Render(io.Out, graph.Format(opts.Format))
}
