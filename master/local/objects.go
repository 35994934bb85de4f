package local

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The exported beans of the JSON API: their classes, properties and
// visibilities, as Jenkins core and its plugins declare them.

var (
	rootProps, freestyleProps, pipelineProps, folderProps []jprop
	freestyleBuildProps, pipelineBuildProps               []jprop
	queueItemProps, queueProps, viewProps                 []jprop
	paramsActionProps, causeActionProps, artifactProps    []jprop
	paramDefProps, choiceDefProps, paramsPropProps        []jprop
	valueProps, secretValueProps, boolValueProps          []jprop
	userCauseProps, remoteCauseProps, causeProps          []jprop
	upstreamCauseProps                                    []jprop
	healthProps, labelProps, executorProps, stubProps     []jprop
	pluginManagerProps, pluginProps, dependencyProps      []jprop
	computerSetProps, computerProps                       []jprop
)

func init() {
	labelProps = []jprop{{"name", 2, false, func(c *jctx, r any) any { return r.(string) }}}

	rootProps = []jprop{
		{"assignedLabels", 1, false, func(c *jctx, r any) any { return []any{jobj{props: labelProps, recv: "built-in"}} }},
		{"mode", 1, false, func(c *jctx, r any) any { return "NORMAL" }},
		{"nodeDescription", 1, false, func(c *jctx, r any) any { return "the Jenkins controller's built-in node" }},
		{"nodeName", 1, false, func(c *jctx, r any) any { return "" }},
		{"numExecutors", 1, false, func(c *jctx, r any) any { return len(c.m.executors) }},
		{"description", 1, false, func(c *jctx, r any) any { return nil }},
		{"jobs", 1, false, func(c *jctx, r any) any { return itemList(r.(*item).sorted) }},
		{"overallLoad", 1, false, func(c *jctx, r any) any { return jobj{} }},
		{"primaryView", 1, false, func(c *jctx, r any) any { return viewObj(r.(*item).primary()) }},
		{"quietDownReason", 1, false, func(c *jctx, r any) any { return nil }},
		{"quietingDown", 1, false, func(c *jctx, r any) any { return false }},
		{"slaveAgentPort", 1, false, func(c *jctx, r any) any { return -1 }},
		{"unlabeledLoad", 1, false, func(c *jctx, r any) any { return jobj{class: "jenkins.model.UnlabeledLoadStatistics"} }},
		{"url", 1, false, func(c *jctx, r any) any { return c.base }},
		{"useCrumbs", 1, false, func(c *jctx, r any) any { return true }},
		{"useSecurity", 1, false, func(c *jctx, r any) any { return c.m.secured() }},
		{"views", 1, false, func(c *jctx, r any) any { return viewList(r.(*item).views) }},
	}

	itemHead := []jprop{
		{"actions", 1, false, func(c *jctx, r any) any { return itemActions(r.(*item)) }},
		{"description", 1, false, func(c *jctx, r any) any { return r.(*item).cfg.description }},
		{"displayName", 1, false, func(c *jctx, r any) any { return r.(*item).displayName() }},
		{"displayNameOrNull", 1, false, func(c *jctx, r any) any {
			if d := r.(*item).cfg.displayName; d != "" {
				return d
			}
			return nil
		}},
		{"fullDisplayName", 1, false, func(c *jctx, r any) any { return r.(*item).fullDisplayName() }},
		{"fullName", 1, false, func(c *jctx, r any) any { return r.(*item).fullName() }},
		{"name", 999, false, func(c *jctx, r any) any { return r.(*item).name }},
		{"url", 999, false, func(c *jctx, r any) any { return c.base + r.(*item).relURL() }},
	}
	buildLink := func(name string) jprop {
		return jprop{name, 1, false, func(c *jctx, r any) any {
			b, _ := r.(*item).permalink(name)
			return buildObj(b)
		}}
	}
	jobBody := []jprop{
		{"buildable", 1, false, func(c *jctx, r any) any { return r.(*item).buildable() }},
		{"builds", 1, false, func(c *jctx, r any) any { return buildList(r.(*item), 100) }},
		{"color", 2, false, func(c *jctx, r any) any { return r.(*item).color() }},
		buildLink("firstBuild"),
		{"healthReport", 1, false, func(c *jctx, r any) any { return healthReport(r.(*item)) }},
		{"inQueue", 1, false, func(c *jctx, r any) any { return len(r.(*item).queued) > 0 }},
		{"keepDependencies", 1, false, func(c *jctx, r any) any { return false }},
		buildLink("lastBuild"),
		buildLink("lastCompletedBuild"),
		buildLink("lastFailedBuild"),
		buildLink("lastStableBuild"),
		buildLink("lastSuccessfulBuild"),
		buildLink("lastUnstableBuild"),
		buildLink("lastUnsuccessfulBuild"),
		{"nextBuildNumber", 1, false, func(c *jctx, r any) any { return r.(*item).nextBuild }},
		{"property", 1, true, func(c *jctx, r any) any {
			if it := r.(*item); len(it.cfg.params) > 0 {
				return []any{jobj{class: propParams, props: paramsPropProps, recv: it}}
			}
			return []any{}
		}},
		{"queueItem", 1, false, func(c *jctx, r any) any {
			if it := r.(*item); len(it.queued) > 0 {
				return queueObj(it.queued[0])
			}
			return nil
		}},
		{"concurrentBuild", 1, false, func(c *jctx, r any) any { return r.(*item).cfg.concurrent }},
		{"disabled", 1, false, func(c *jctx, r any) any { return r.(*item).cfg.disabled }},
	}
	freestyleProps = concat(itemHead, jobBody, []jprop{
		{"downstreamProjects", 1, false, func(c *jctx, r any) any { return []any{} }},
		{"labelExpression", 1, false, func(c *jctx, r any) any {
			if l := r.(*item).cfg.label; l != "" {
				return l
			}
			return nil
		}},
		{"scm", 1, false, func(c *jctx, r any) any {
			if r.(*item).cfg.git != nil {
				return jobj{class: classGitSCM}
			}
			return jobj{class: "hudson.scm.NullSCM"}
		}},
		{"upstreamProjects", 1, false, func(c *jctx, r any) any { return []any{} }},
		{"allBuilds", -2, false, func(c *jctx, r any) any { return buildList(r.(*item), -1) }},
	})
	pipelineProps = concat(itemHead, jobBody, []jprop{
		{"resumeBlocked", 1, false, func(c *jctx, r any) any { return false }},
		{"allBuilds", -2, false, func(c *jctx, r any) any { return buildList(r.(*item), -1) }},
	})
	folderProps = concat(itemHead, []jprop{
		{"healthReport", 1, false, func(c *jctx, r any) any { return []any{} }},
		{"jobs", 1, false, func(c *jctx, r any) any { return itemList(r.(*item).sorted) }},
		{"primaryView", 1, false, func(c *jctx, r any) any { return viewObj(r.(*item).primary()) }},
		{"views", 1, false, func(c *jctx, r any) any { return viewList(r.(*item).views) }},
	})

	paramsPropProps = []jprop{
		{"parameterDefinitions", 1, false, func(c *jctx, r any) any {
			it := r.(*item)
			out := make([]any, len(it.cfg.params))
			for i := range it.cfg.params {
				p := &it.cfg.params[i]
				props := paramDefProps
				if p.class == "hudson.model.ChoiceParameterDefinition" {
					props = choiceDefProps
				}
				out[i] = jobj{class: p.class, props: props, recv: p}
			}
			return out
		}},
	}
	paramDefProps = []jprop{
		{"defaultParameterValue", 3, false, func(c *jctx, r any) any { return valueObj(r.(*paramDef).defaultValue()) }},
		{"description", 3, false, func(c *jctx, r any) any { return r.(*paramDef).description }},
		{"name", 3, false, func(c *jctx, r any) any { return r.(*paramDef).name }},
		{"type", 3, false, func(c *jctx, r any) any { return r.(*paramDef).typeName() }},
	}
	choiceDefProps = concat(paramDefProps, []jprop{
		{"choices", 3, false, func(c *jctx, r any) any {
			ch := r.(*paramDef).choices
			if ch == nil {
				ch = []string{}
			}
			return ch
		}},
	})
	valueProps = []jprop{
		{"name", 3, false, func(c *jctx, r any) any { return r.(paramValue).name }},
		{"value", 4, false, func(c *jctx, r any) any { return r.(paramValue).value }},
	}
	boolValueProps = []jprop{
		{"name", 3, false, func(c *jctx, r any) any { return r.(paramValue).name }},
		{"value", 4, false, func(c *jctx, r any) any { return r.(paramValue).value == "true" }},
	}
	secretValueProps = valueProps[:1]

	paramsActionProps = []jprop{
		{"parameters", 2, false, func(c *jctx, r any) any {
			ps := r.([]paramValue)
			out := make([]any, len(ps))
			for i, p := range ps {
				out[i] = valueObj(p)
			}
			return out
		}},
	}
	causeActionProps = []jprop{
		{"causes", 2, false, func(c *jctx, r any) any {
			cs := r.([]cause)
			out := make([]any, len(cs))
			for i := range cs {
				props := causeProps
				switch cs[i].Class {
				case causeUser:
					props = userCauseProps
				case causeRemote:
					props = remoteCauseProps
				case causeUpstream:
					props = upstreamCauseProps
				}
				out[i] = jobj{class: cs[i].Class, props: props, recv: &cs[i]}
			}
			return out
		}},
	}
	causeProps = []jprop{
		{"shortDescription", 3, false, func(c *jctx, r any) any { return r.(*cause).ShortDescription }},
	}
	userCauseProps = concat(causeProps, []jprop{
		{"userId", 3, false, func(c *jctx, r any) any { return r.(*cause).UserID }},
		{"userName", 3, false, func(c *jctx, r any) any { return r.(*cause).UserName }},
	})
	remoteCauseProps = concat(causeProps, []jprop{
		{"addr", 3, false, func(c *jctx, r any) any { return r.(*cause).Addr }},
		{"note", 3, false, func(c *jctx, r any) any {
			if n := r.(*cause).Note; n != "" {
				return n
			}
			return nil
		}},
	})
	upstreamCauseProps = concat(causeProps, []jprop{
		{"upstreamBuild", 3, false, func(c *jctx, r any) any { return r.(*cause).UpstreamBuild }},
		{"upstreamProject", 3, false, func(c *jctx, r any) any { return r.(*cause).UpstreamProject }},
		{"upstreamUrl", 3, false, func(c *jctx, r any) any { return r.(*cause).UpstreamURL }},
	})
	artifactProps = []jprop{
		{"displayPath", 3, false, func(c *jctx, r any) any { return r.(artifactRef).display }},
		{"fileName", 3, false, func(c *jctx, r any) any { return path.Base(r.(artifactRef).rel) }},
		{"relativePath", 3, false, func(c *jctx, r any) any { return r.(artifactRef).rel }},
	}
	healthProps = []jprop{
		{"description", 2, false, func(c *jctx, r any) any { return r.(health).description }},
		{"iconClassName", 2, false, func(c *jctx, r any) any { return r.(health).iconClass }},
		{"iconUrl", 2, false, func(c *jctx, r any) any { return r.(health).iconURL }},
		{"score", 2, false, func(c *jctx, r any) any { return r.(health).score }},
	}

	buildHead := []jprop{
		{"actions", 1, false, func(c *jctx, r any) any {
			b := r.(*build)
			return append(runActions(b.hasParams, b.params, b.causes), gitActions(b)...)
		}},
		{"artifacts", 1, false, func(c *jctx, r any) any { return artifactList(r.(*build).artifacts) }},
		{"building", 1, false, func(c *jctx, r any) any { return r.(*build).building }},
		{"description", 1, false, func(c *jctx, r any) any { return nil }},
		{"displayName", 1, false, func(c *jctx, r any) any { return "#" + strconv.Itoa(r.(*build).number) }},
		{"duration", 1, false, func(c *jctx, r any) any {
			if b := r.(*build); !b.building {
				return b.duration.Milliseconds()
			}
			return 0
		}},
		{"estimatedDuration", 1, false, func(c *jctx, r any) any { return r.(*build).job.estimatedDuration() }},
		{"executor", 1, false, func(c *jctx, r any) any {
			if b := r.(*build); b.building {
				return jobj{class: "hudson.model.Executor", props: executorProps, recv: b}
			}
			return nil
		}},
		{"fullDisplayName", 1, false, func(c *jctx, r any) any {
			b := r.(*build)
			return b.job.fullDisplayName() + " #" + strconv.Itoa(b.number)
		}},
		{"id", 1, false, func(c *jctx, r any) any { return strconv.Itoa(r.(*build).number) }},
		{"keepLog", 1, false, func(c *jctx, r any) any { return r.(*build).keepLog }},
		{"number", 2, false, func(c *jctx, r any) any { return r.(*build).number }},
		{"queueId", 1, false, func(c *jctx, r any) any { return r.(*build).queueID }},
		{"result", 1, false, func(c *jctx, r any) any {
			if b := r.(*build); !b.building {
				return b.result
			}
			return nil
		}},
		{"timestamp", 1, false, func(c *jctx, r any) any { return r.(*build).timestamp.UnixMilli() }},
		{"url", 2, false, func(c *jctx, r any) any { return c.base + r.(*build).relURL() }},
	}
	buildTail := []jprop{
		{"nextBuild", 1, false, func(c *jctx, r any) any { return buildObj(neighbour(r.(*build), 1)) }},
		{"previousBuild", 1, false, func(c *jctx, r any) any { return buildObj(neighbour(r.(*build), -1)) }},
	}
	freestyleBuildProps = concat(buildHead, []jprop{
		{"builtOn", 1, false, func(c *jctx, r any) any { return "" }},
		{"changeSet", 1, false, func(c *jctx, r any) any {
			return jobj{class: "hudson.scm.EmptyChangeLogSet", props: emptyChangeSetProps, recv: nil}
		}},
		{"culprits", 1, false, func(c *jctx, r any) any { return []any{} }},
	}, buildTail)
	pipelineBuildProps = concat(buildHead, []jprop{
		{"changeSets", 1, false, func(c *jctx, r any) any { return []any{} }},
		{"culprits", 1, false, func(c *jctx, r any) any { return []any{} }},
		{"inProgress", 1, false, func(c *jctx, r any) any { return r.(*build).building }},
	}, buildTail)
	executorProps = []jprop{
		{"currentExecutable", 1, false, func(c *jctx, r any) any {
			if b, ok := r.(*build); ok && b != nil {
				return buildObj(b)
			}
			return nil
		}},
		{"idle", 1, false, func(c *jctx, r any) any { b, _ := r.(*build); return b == nil }},
		{"likelyStuck", 1, false, func(c *jctx, r any) any { return false }},
		{"number", 1, false, func(c *jctx, r any) any {
			if b, _ := r.(*build); b != nil {
				return max(b.executor, 0)
			}
			return 0
		}},
		{"progress", 1, false, func(c *jctx, r any) any { return -1 }},
	}

	queueItemProps = []jprop{
		{"actions", 2, false, func(c *jctx, r any) any {
			q := r.(*queueItem)
			return runActions(q.hasParams, q.params, q.causes)
		}},
		{"blocked", 2, false, func(c *jctx, r any) any { return r.(*queueItem).state == qBlocked }},
		{"buildable", 2, false, func(c *jctx, r any) any { return r.(*queueItem).state == qBuildable }},
		{"id", 2, false, func(c *jctx, r any) any { return r.(*queueItem).id }},
		{"inQueueSince", 2, false, func(c *jctx, r any) any { return r.(*queueItem).inQueueSince.UnixMilli() }},
		{"params", 2, false, func(c *jctx, r any) any { return queueParams(r.(*queueItem)) }},
		{"stuck", 2, false, func(c *jctx, r any) any { return false }},
		{"task", 2, false, func(c *jctx, r any) any { return taskObj(r.(*queueItem)) }},
		{"url", 2, false, func(c *jctx, r any) any { return r.(*queueItem).relURL() }},
		{"why", 2, false, func(c *jctx, r any) any {
			if w := r.(*queueItem).why; w != "" {
				return w
			}
			return nil
		}},
	}
	queueProps = []jprop{
		{"discoverableItems", 1, false, func(c *jctx, r any) any { return []any{} }},
		{"items", 1, false, func(c *jctx, r any) any {
			q := c.m.queue
			out := make([]any, len(q))
			for i, x := range q {
				out[i] = queueObj(x)
			}
			return out
		}},
	}
	stubProps = []jprop{
		{"name", 999, false, func(c *jctx, r any) any { return r.(stub).name }},
		{"number", 2, false, func(c *jctx, r any) any { return r.(stub).number }},
		{"url", 999, false, func(c *jctx, r any) any { return c.base + r.(stub).url }},
	}

	viewProps = []jprop{
		{"description", 1, false, func(c *jctx, r any) any { return r.(*view).desc }},
		{"jobs", 1, false, func(c *jctx, r any) any { return itemList(r.(*view).items()) }},
		{"name", 2, false, func(c *jctx, r any) any { return r.(*view).name }},
		{"property", 1, false, func(c *jctx, r any) any { return []any{} }},
		{"url", 2, false, func(c *jctx, r any) any { return c.base + r.(*view).relURL() }},
	}

	pluginManagerProps = []jprop{
		{"plugins", 1, false, func(c *jctx, r any) any {
			ps := c.m.plugins
			out := make([]any, len(ps))
			for i := range ps {
				out[i] = jobj{props: pluginProps, recv: &ps[i]}
			}
			return out
		}},
	}
	pluginProps = []jprop{
		{"active", 1, false, func(c *jctx, r any) any { return r.(*Plugin).Active }},
		{"backupVersion", 1, false, func(c *jctx, r any) any { return nil }},
		{"bundled", 1, false, func(c *jctx, r any) any { return false }},
		{"deleted", 1, false, func(c *jctx, r any) any { return false }},
		{"dependencies", 1, false, func(c *jctx, r any) any {
			ds := r.(*Plugin).Dependencies
			out := make([]any, len(ds))
			for i := range ds {
				out[i] = jobj{props: dependencyProps, recv: &ds[i]}
			}
			return out
		}},
		{"detached", 1, false, func(c *jctx, r any) any { return false }},
		{"downgradable", 1, false, func(c *jctx, r any) any { return false }},
		{"enabled", 1, false, func(c *jctx, r any) any { return r.(*Plugin).Enabled }},
		{"hasUpdate", 1, false, func(c *jctx, r any) any { return false }},
		{"longName", 1, false, func(c *jctx, r any) any { return r.(*Plugin).LongName }},
		{"minimumJavaVersion", 1, false, func(c *jctx, r any) any { return nil }},
		{"pinned", 1, false, func(c *jctx, r any) any { return false }},
		{"requiredCoreVersion", 1, false, func(c *jctx, r any) any { return "2.479.3" }},
		{"shortName", 1, false, func(c *jctx, r any) any { return r.(*Plugin).ShortName }},
		{"supportsDynamicLoad", 1, false, func(c *jctx, r any) any { return "MAYBE" }},
		{"url", 1, false, func(c *jctx, r any) any { return "https://plugins.jenkins.io/" + r.(*Plugin).ShortName }},
		{"version", 1, false, func(c *jctx, r any) any { return r.(*Plugin).Version }},
	}
	dependencyProps = []jprop{
		{"optional", 1, false, func(c *jctx, r any) any { return r.(*PluginDependency).Optional }},
		{"shortName", 1, false, func(c *jctx, r any) any { return r.(*PluginDependency).ShortName }},
		{"version", 1, false, func(c *jctx, r any) any { return r.(*PluginDependency).Version }},
	}

	computerSetProps = []jprop{
		{"busyExecutors", 1, false, func(c *jctx, r any) any { return busyExecutors(c.m) }},
		{"computer", 1, false, func(c *jctx, r any) any {
			return []any{jobj{class: "hudson.model.Hudson$MasterComputer", props: computerProps}}
		}},
		{"displayName", 1, false, func(c *jctx, r any) any { return "Nodes" }},
		{"totalExecutors", 1, false, func(c *jctx, r any) any { return len(c.m.executors) }},
	}
	computerProps = []jprop{
		{"actions", 2, false, func(c *jctx, r any) any { return []any{} }},
		{"assignedLabels", 2, false, func(c *jctx, r any) any { return []any{jobj{props: labelProps, recv: "built-in"}} }},
		{"description", 2, false, func(c *jctx, r any) any { return "the Jenkins controller's built-in node" }},
		{"displayName", 2, false, func(c *jctx, r any) any { return "Built-In Node" }},
		{"executors", 2, false, func(c *jctx, r any) any {
			out := make([]any, len(c.m.executors))
			for i, b := range c.m.executors {
				if b == nil {
					out[i] = jobj{class: "hudson.model.Executor", props: idleExecutorProps(i)}
				} else {
					out[i] = jobj{class: "hudson.model.Executor", props: executorProps, recv: b}
				}
			}
			return out
		}},
		{"icon", 2, false, func(c *jctx, r any) any { return "symbol-computer" }},
		{"iconClassName", 2, false, func(c *jctx, r any) any { return "symbol-computer" }},
		{"idle", 2, false, func(c *jctx, r any) any { return busyExecutors(c.m) == 0 }},
		{"jnlpAgent", 2, false, func(c *jctx, r any) any { return false }},
		{"launchSupported", 2, false, func(c *jctx, r any) any { return true }},
		{"manualLaunchAllowed", 2, false, func(c *jctx, r any) any { return true }},
		{"numExecutors", 2, false, func(c *jctx, r any) any { return len(c.m.executors) }},
		{"offline", 2, false, func(c *jctx, r any) any { return false }},
		{"offlineCause", 2, false, func(c *jctx, r any) any { return nil }},
		{"offlineCauseReason", 2, false, func(c *jctx, r any) any { return "" }},
		{"oneOffExecutors", 2, false, func(c *jctx, r any) any { return []any{} }},
		{"temporarilyOffline", 2, false, func(c *jctx, r any) any { return false }},
	}
}

var emptyChangeSetProps = []jprop{
	{"items", 1, false, func(c *jctx, r any) any { return []any{} }},
	{"kind", 1, false, func(c *jctx, r any) any { return nil }},
}

func idleExecutorProps(n int) []jprop {
	props := make([]jprop, len(executorProps))
	copy(props, executorProps)
	for i := range props {
		if props[i].name == "number" {
			props[i].get = func(c *jctx, r any) any { return n }
		}
	}
	return props
}

func busyExecutors(m *Master) int {
	n := 0
	for _, b := range m.executors {
		if b != nil {
			n++
		}
	}
	return n
}

func concat(lists ...[]jprop) []jprop {
	var out []jprop
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func itemObj(it *item) jobj {
	switch it.kind {
	case kindFreestyle:
		return jobj{class: classFreestyle, props: freestyleProps, recv: it}
	case kindPipeline:
		return jobj{class: classPipeline, props: pipelineProps, recv: it}
	case kindFolder:
		return jobj{class: classFolder, props: folderProps, recv: it}
	}
	return jobj{class: "hudson.model.Hudson", props: rootProps, recv: it}
}

func itemList(items []*item) jlist {
	return jlist{n: len(items), at: func(i int) any { return itemObj(items[i]) }}
}

func buildObj(b *build) any {
	if b == nil {
		return nil
	}
	if b.job.kind == kindPipeline {
		return jobj{class: classPipelineBuild, props: pipelineBuildProps, recv: b}
	}
	return jobj{class: classFreestyleBuild, props: freestyleBuildProps, recv: b}
}

// buildList lists a job's builds, newest first; limit < 0: all of them.
func buildList(it *item, limit int) jlist {
	n := len(it.builds)
	if limit >= 0 {
		n = min(n, limit)
	}
	builds := it.builds
	return jlist{n: n, at: func(i int) any { return buildObj(builds[len(builds)-1-i]) }}
}

func neighbour(b *build, dir int) *build {
	bs := b.job.builds
	i := sort.Search(len(bs), func(i int) bool { return bs[i].number >= b.number })
	if i >= len(bs) || bs[i] != b {
		return nil
	}
	if j := i + dir; j >= 0 && j < len(bs) {
		return bs[j]
	}
	return nil
}

func valueObj(p paramValue) jobj {
	switch p.class {
	case "hudson.model.BooleanParameterValue":
		return jobj{class: p.class, props: boolValueProps, recv: p}
	case "hudson.model.PasswordParameterValue":
		return jobj{class: p.class, props: secretValueProps, recv: p}
	}
	return jobj{class: p.class, props: valueProps, recv: p}
}

// runActions are a build's or queue item's actions: its parameters (for a
// parameterized job) and its causes.
func runActions(hasParams bool, params []paramValue, causes []cause) []any {
	var out []any
	if hasParams {
		out = append(out, jobj{class: "hudson.model.ParametersAction", props: paramsActionProps, recv: params})
	}
	out = append(out, jobj{class: "hudson.model.CauseAction", props: causeActionProps, recv: causes})
	return out
}

func itemActions(it *item) []any {
	if it.isJob() && len(it.cfg.params) > 0 {
		return []any{jobj{class: propParams, props: paramsPropProps, recv: it}}
	}
	return []any{}
}

type artifactRef struct{ rel, display string }

func artifactList(rels []string) []any {
	names := map[string]int{}
	for _, r := range rels {
		names[path.Base(r)]++
	}
	out := make([]any, len(rels))
	for i, r := range rels {
		d := path.Base(r)
		if names[d] > 1 {
			d = r
		}
		out[i] = jobj{props: artifactProps, recv: artifactRef{rel: r, display: d}}
	}
	return out
}

type health struct {
	description, iconClass, iconURL string
	score                           int
}

// healthReport is the build stability report of a job's last five
// completed builds.
func healthReport(it *item) []any {
	total, failed := 0, 0
	for i := len(it.builds) - 1; i >= 0 && total < 5; i-- {
		b := it.builds[i]
		if b.building {
			continue
		}
		total++
		if b.result != "SUCCESS" && b.result != "UNSTABLE" {
			failed++
		}
	}
	if total == 0 {
		return []any{}
	}
	score := 100 * (total - failed) / total
	desc := fmt.Sprintf("Build stability: %d out of the last %d builds failed.", failed, total)
	switch failed {
	case 0:
		desc = "Build stability: No recent builds failed."
	case total:
		desc = "Build stability: All recent builds failed."
	}
	band := "00to19"
	switch {
	case score > 80:
		band = "80plus"
	case score > 60:
		band = "60to79"
	case score > 40:
		band = "40to59"
	case score > 20:
		band = "20to39"
	}
	return []any{jobj{props: healthProps, recv: health{desc, "icon-health-" + band, "health-" + band + ".png", score}}}
}

func queueObj(q *queueItem) jobj {
	props := queueItemProps
	switch q.state {
	case qWaiting:
		props = waitingProps
	case qBlocked, qBuildable:
		props = buildableProps
	case qLeft:
		props = leftProps
	}
	return jobj{class: q.class(), props: props, recv: q}
}

var waitingProps, buildableProps, leftProps []jprop

func init() {
	waitingProps = concat(queueItemProps, []jprop{
		{"timestamp", 2, false, func(c *jctx, r any) any { return r.(*queueItem).due.UnixMilli() }},
	})
	buildableProps = concat(queueItemProps, []jprop{
		{"buildableStartMilliseconds", 2, false, func(c *jctx, r any) any {
			q := r.(*queueItem)
			if !q.buildableAt.IsZero() {
				return q.buildableAt.UnixMilli()
			}
			return q.due.UnixMilli()
		}},
		{"pending", 2, false, func(c *jctx, r any) any { return false }},
	})
	leftProps = concat(queueItemProps, []jprop{
		{"cancelled", 2, false, func(c *jctx, r any) any { return r.(*queueItem).cancelled }},
		{"executable", 2, false, func(c *jctx, r any) any {
			q := r.(*queueItem)
			if q.cancelled || q.execNumber == 0 {
				return nil
			}
			if q.build != nil && live(q.build.job) && q.build.job.build(q.build.number) == q.build {
				return buildObj(q.build)
			}
			return jobj{class: q.execClass, props: stubProps[1:], recv: stub{number: q.execNumber, url: q.execURL}}
		}},
	})
}

// stub stands for a job or build that no longer exists.
type stub struct {
	name, url string
	number    int
}

// live reports whether an item is still in the tree.
func live(it *item) bool {
	for ; it != nil && it.parent != nil; it = it.parent {
		if it.parent.children[it.fold] != it {
			return false
		}
	}
	return it != nil && it.kind == kindRoot
}

func taskObj(q *queueItem) any {
	if q.job != nil && live(q.job) {
		return itemObj(q.job)
	}
	name := q.taskFull[strings.LastIndexByte(q.taskFull, '/')+1:]
	return jobj{class: q.taskClass, props: []jprop{stubProps[0], stubProps[2]}, recv: stub{name: name, url: q.taskURL}}
}

// queueParams is Jenkins' Queue.Item.getParams: each parameter as
// "\nNAME=value", passwords hidden.
func queueParams(q *queueItem) string {
	var b strings.Builder
	for _, p := range q.params {
		b.WriteString("\n")
		b.WriteString(p.name)
		b.WriteString("=")
		if p.secret() {
			b.WriteString("****")
		} else {
			b.WriteString(p.value)
		}
	}
	return b.String()
}

func viewObj(v *view) any {
	if v == nil {
		return nil
	}
	return jobj{class: v.class, props: viewProps, recv: v}
}

func viewList(views []*view) []any {
	out := make([]any, len(views))
	for i, v := range views {
		out[i] = viewObj(v)
	}
	return out
}

// relURL is the view's URL relative to the root: its owner's for the
// primary view, as in Jenkins.
func (v *view) relURL() string {
	if v.owner.primary() == v {
		return v.owner.relURL()
	}
	return v.owner.relURL() + "view/" + escapeSegment(v.name) + "/"
}

// items lists the view's jobs: every item of its owner for an AllView;
// for a ListView, the items its jobNames and includeRegex select,
// case-insensitively sorted.
func (v *view) items() []*item {
	if v.all {
		return v.owner.sorted
	}
	seen := map[*item]bool{}
	var out []*item
	for _, n := range v.jobNames {
		it := v.owner
		for _, part := range strings.Split(n, "/") {
			if it == nil || !it.isGroup() {
				it = nil
				break
			}
			it = it.child(part)
		}
		if it != nil && it != v.owner && !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	if v.regex != "" {
		if re, err := regexp.Compile("^(?:" + v.regex + ")$"); err == nil {
			var walk func(g *item, prefix string)
			walk = func(g *item, prefix string) {
				for _, c := range g.sorted {
					if re.MatchString(prefix+c.name) && !seen[c] {
						seen[c] = true
						out = append(out, c)
					}
					if v.recurse && c.isFolder() {
						walk(c, prefix+c.name+"/")
					}
				}
			}
			walk(v.owner, "")
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].fold < out[j].fold })
	return out
}
