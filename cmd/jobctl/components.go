package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/components"
	"github.com/jobctl/jobctl/jobs"
)

func newComponentsCmd(io *streams, root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "components",
		Short: "Work with the job sources generated from component files",
		Long: `Component files (components/<name>.yaml) describe a deployable module
once; jobctl generates its build, test, stage, release, integration and
watch jobs from them. jobctl build, test, graph and deploy generate them on
the fly; jobctl components render writes them out so you can read them.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newComponentsRenderCmd(io, root))
	return cmd
}

type renderOptions struct {
	Root *rootOptions
	Out  string
}

func newComponentsRenderCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &renderOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Write the job sources generated from component files",
		Long: `Write the job sources jobctl generates from components/*.yaml (and the
nightly prune job, when jobctl.yaml's prune section has a schedule), as
jobs/<name>/{job.yaml,run.sh,flow.yaml} under --out (default
build/components in the job repository), and print the generated jobs'
names on stdout. These are ordinary job sources: the ones jobctl build
compiles, without needing this step. Messages about a generated job name
its files under build/components.

--out is replaced as a whole, and only if it is empty or was written by
jobctl components render before.`,
		Example: `  # Read what the component files generate
  jobctl components render -C examples/modelshop
  less examples/modelshop/build/components/jobs/web-build/run.sh`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return renderRun(io, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the sources under `DIR` (default <repository>/"+components.RenderDir+")")
	return cmd
}

// renderMark marks a folder written by jobctl components render.
const renderMark = ".jobctl-render"

func renderRun(io *streams, opts *renderOptions) error {
	root, err := findRoot(opts.Root.Dir)
	if err != nil {
		return err
	}
	repo, err := compiler.Load(root)
	if err != nil {
		return err
	}
	if len(repo.Components) == 0 {
		fmt.Fprintf(io.Err, "no component files in %s\n", filepath.Join(root, components.Dir))
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(root, filepath.FromSlash(components.RenderDir))
	}
	if err := writeRendered(out, repo.Generated); err != nil {
		return err
	}
	seen := map[string]bool{}
	var names []string
	for _, f := range repo.Generated {
		if name := path.Base(path.Dir(f.Path)); !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(io.Out, n)
	}
	from := fmt.Sprintf("%d component files", len(repo.Components))
	for _, f := range repo.Generated {
		if f.From == jobs.ProjectFile {
			from += " and " + jobs.ProjectFile + "'s prune section"
			break
		}
	}
	fmt.Fprintf(io.Err, "wrote %d jobs generated from %s to %s\n", len(seen), from, out)
	return nil
}

// writeRendered replaces out with the files: they are written to a new
// folder next to it, which then takes its place, so a reader never sees
// a mix and a failure leaves the old files.
func writeRendered(out string, files []components.File) error {
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(out, renderMark)); err != nil {
			return fmt.Errorf("--out %s: the folder holds files jobctl components render did not write; choose an empty or new folder", out)
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".new-")
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, renderMark), []byte("written by jobctl components render; replaced as a whole on every render\n"), 0o644); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if path.Base(f.Path) == "run.sh" {
			mode = 0o755
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	old := ""
	if _, err := os.Stat(out); err == nil {
		old = tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("replacing %s: %w", out, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		if old != "" {
			os.Rename(old, out)
		}
		return fmt.Errorf("replacing %s: %w", out, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}
