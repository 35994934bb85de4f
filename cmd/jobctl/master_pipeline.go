package main

import (
	"context"

	"github.com/jobctl/jobctl/master/local"
	"github.com/jobctl/jobctl/master/local/pipeline"
)

// The local master runs pipeline builds with master/local/pipeline: the
// script under groovy, with a step library that calls back into the master.
func init() {
	pipelineRunner = func(home string, logf func(format string, args ...any)) (local.PipelineRunner, error) {
		return pipelineAdapter{&pipeline.Runner{}}, nil
	}
}

// pipelineAdapter is a pipeline.Runner as the master's PipelineRunner.
type pipelineAdapter struct{ r *pipeline.Runner }

func (a pipelineAdapter) Run(ctx context.Context, b local.PipelineBuild) string {
	return a.r.Run(ctx, pipeline.Build{
		Job:          b.Job,
		Number:       b.Number,
		Script:       b.Script,
		Params:       b.Params,
		ParamTypes:   b.ParamTypes,
		Env:          b.Env,
		Workspace:    b.Workspace,
		ArtifactsDir: b.ArtifactsDir,
		Log:          b.Log,
		MasterURL:    b.MasterURL,
		User:         b.User,
		Token:        b.Token,
	})
}
