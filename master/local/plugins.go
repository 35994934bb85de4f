package local

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// DefaultPlugins returns the plugins jobctl's generated jobs need, with
// the dependencies between them, at realistic current versions: what the
// plugin manager of a Jenkins 2.578 with those plugins installed lists.
func DefaultPlugins() []Plugin {
	p := func(short, long, version string, deps ...PluginDependency) Plugin {
		return Plugin{ShortName: short, LongName: long, Version: version, Active: true, Enabled: true, Dependencies: deps}
	}
	d := func(short, version string) PluginDependency {
		return PluginDependency{ShortName: short, Version: version}
	}
	opt := func(short, version string) PluginDependency {
		return PluginDependency{ShortName: short, Version: version, Optional: true}
	}
	return []Plugin{
		p("cloudbees-folder", "Folders Plugin", "6.1012.v79a_86a_1ea_c1f", d("credentials", "1408.va_622a_b_f5b_1b_1")),
		p("copyartifact", "Copy Artifact Plugin", "765.v304d1c35a_8fd", d("structs", "338.v848422169819"), opt("workflow-job", "1400.v7fd111b_ec82f")),
		p("credentials", "Credentials Plugin", "1415.v831096eb_5534", d("structs", "338.v848422169819")),
		p("durable-task", "Durable Task Plugin", "587.v84b_877235b_45"),
		p("git", "Git plugin", "5.10.1",
			d("credentials", "1408.va_622a_b_f5b_1b_1"), d("git-client", "6.4.0"), d("scm-api", "698.v8e3b_c788f0a_6"),
			d("script-security", "1362.v67dc1f0e1b_b_3"), d("structs", "338.v848422169819"), d("workflow-scm-step", "427.v4ca_6512e7df1")),
		p("git-client", "Git client plugin", "6.4.0", d("credentials", "1408.va_622a_b_f5b_1b_1"), d("structs", "338.v848422169819")),
		p("parameterized-trigger", "Parameterized Trigger plugin", "890.vc240a_a_e1217f", d("script-security", "1362.v67dc1f0e1b_b_3")),
		p("pipeline-build-step", "Pipeline: Build Step", "571.v08a_fffd4b_0ce",
			d("workflow-api", "1336.vee415d95c521"), d("workflow-step-api", "678.v3ee58b_469476"), d("workflow-support", "926.v9f4f9b_b_98c19"), d("script-security", "1362.v67dc1f0e1b_b_3")),
		p("pipeline-stage-step", "Pipeline: Stage Step", "322.vecffa_99f371c", d("workflow-api", "1336.vee415d95c521"), d("workflow-step-api", "678.v3ee58b_469476")),
		p("pipeline-utility-steps", "Pipeline Utility Steps", "2.19.0", d("script-security", "1362.v67dc1f0e1b_b_3"), d("workflow-step-api", "678.v3ee58b_469476")),
		p("scm-api", "SCM API Plugin", "704.v3ce5c542825a_", d("structs", "338.v848422169819")),
		p("script-security", "Script Security Plugin", "1373.vb_b_4a_a_c26fa_00"),
		p("structs", "Structs Plugin", "350.v3b_30f09f2363"),
		p("timestamper", "Timestamper", "1.28", opt("workflow-api", "1336.vee415d95c521"), opt("workflow-step-api", "678.v3ee58b_469476")),
		p("workflow-api", "Pipeline: API", "1373.v7b_813f10efa_b_", d("scm-api", "698.v8e3b_c788f0a_6"), d("structs", "338.v848422169819"), d("workflow-step-api", "678.v3ee58b_469476")),
		p("workflow-basic-steps", "Pipeline: Basic Steps", "1079.vce64b_a_929c5a_", d("structs", "338.v848422169819"), d("workflow-api", "1336.vee415d95c521"), d("workflow-step-api", "678.v3ee58b_469476"), d("workflow-support", "926.v9f4f9b_b_98c19")),
		p("workflow-cps", "Pipeline: Groovy", "4106.v7a_8a_8176d450",
			d("scm-api", "698.v8e3b_c788f0a_6"), d("script-security", "1362.v67dc1f0e1b_b_3"), d("structs", "338.v848422169819"),
			d("workflow-api", "1336.vee415d95c521"), d("workflow-scm-step", "427.v4ca_6512e7df1"), d("workflow-step-api", "678.v3ee58b_469476"), d("workflow-support", "926.v9f4f9b_b_98c19")),
		p("workflow-durable-task-step", "Pipeline: Nodes and Processes", "1405.v1fcd4a_d00096",
			d("durable-task", "577.v2a_8a_4b_7c0247"), d("script-security", "1362.v67dc1f0e1b_b_3"), d("structs", "338.v848422169819"),
			d("workflow-api", "1336.vee415d95c521"), d("workflow-step-api", "678.v3ee58b_469476"), d("workflow-support", "926.v9f4f9b_b_98c19")),
		p("workflow-job", "Pipeline: Job", "1540.v295eccc9778f", d("workflow-api", "1336.vee415d95c521"), d("workflow-step-api", "678.v3ee58b_469476"), d("workflow-support", "926.v9f4f9b_b_98c19")),
		p("workflow-scm-step", "Pipeline: SCM Step", "437.v05a_f66b_e5ef8", d("workflow-step-api", "678.v3ee58b_469476")),
		p("workflow-step-api", "Pipeline: Step API", "700.v6e45cb_a_5a_a_21", d("structs", "338.v848422169819")),
		p("workflow-support", "Pipeline: Supporting APIs", "968.v8f17397e87b_8", d("script-security", "1362.v67dc1f0e1b_b_3"), d("workflow-api", "1336.vee415d95c521"), d("workflow-step-api", "678.v3ee58b_469476")),
	}
}

// ParsePlugins reads a plugin list, YAML or JSON: a list of {shortName,
// version}, with longName (default: shortName), active and enabled
// (default true) and dependencies ([{shortName, version, optional}])
// optional.
func ParsePlugins(data []byte) ([]Plugin, error) {
	var list []struct {
		ShortName    string `yaml:"shortName"`
		LongName     string `yaml:"longName"`
		Version      string `yaml:"version"`
		Active       *bool  `yaml:"active"`
		Enabled      *bool  `yaml:"enabled"`
		Dependencies []struct {
			ShortName string `yaml:"shortName"`
			Version   string `yaml:"version"`
			Optional  bool   `yaml:"optional"`
		} `yaml:"dependencies"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("not a list of {shortName, version}: %v", err)
	}
	out := []Plugin{}
	seen := map[string]bool{}
	for i, p := range list {
		if p.ShortName == "" || p.Version == "" {
			return nil, fmt.Errorf("plugin %d: shortName and version are required", i+1)
		}
		if seen[p.ShortName] {
			return nil, fmt.Errorf("plugin %s is listed twice", p.ShortName)
		}
		seen[p.ShortName] = true
		pl := Plugin{ShortName: p.ShortName, LongName: p.LongName, Version: p.Version, Active: true, Enabled: true}
		if pl.LongName == "" {
			pl.LongName = p.ShortName
		}
		if p.Active != nil {
			pl.Active = *p.Active
		}
		if p.Enabled != nil {
			pl.Enabled = *p.Enabled
		}
		for _, d := range p.Dependencies {
			pl.Dependencies = append(pl.Dependencies, PluginDependency{ShortName: d.ShortName, Version: d.Version, Optional: d.Optional})
		}
		out = append(out, pl)
	}
	return out, nil
}
