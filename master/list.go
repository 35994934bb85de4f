package master

import (
	"context"
	"sort"
	"strings"
)

// Folder is what a master holds of one project folder, read in one
// request: the folder's description, its jobs with their descriptions
// (where jobctl's ownership marker lives) and last builds, and its views.
type Folder struct {
	Name        string `json:"name"`
	Exists      bool   `json:"exists"`
	Description string `json:"description,omitempty"`
	Jobs        []Job  `json:"jobs"`
	Views       []View `json:"views"`
}

// Job is a job as listed.
type Job struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Color       string     `json:"color,omitempty"`
	InQueue     bool       `json:"inQueue,omitempty"`
	LastBuild   *LastBuild `json:"lastBuild,omitempty"`
	Jobs        []Job      `json:"jobs,omitempty"` // a sub-folder's jobs
}

// LastBuild is a job's last build as listed.
type LastBuild struct {
	Number    int    `json:"number"`
	Timestamp int64  `json:"timestamp"` // epoch milliseconds
	Result    string `json:"result,omitempty"`
	Building  bool   `json:"building"`
	Duration  int64  `json:"duration"`
}

// View is a view as listed.
type View struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Jobs        []string `json:"jobs"`
}

// Job returns the listed job of that name, or nil.
func (f *Folder) Job(name string) *Job {
	for i := range f.Jobs {
		if f.Jobs[i].Name == name {
			return &f.Jobs[i]
		}
	}
	return nil
}

// View returns the listed view of that name, or nil.
func (f *Folder) View(name string) *View {
	for i := range f.Views {
		if f.Views[i].Name == name {
			return &f.Views[i]
		}
	}
	return nil
}

const jobFields = "name,description,color,inQueue,lastBuild[number,timestamp,result,building,duration]"

// listTree is the tree= of the one listing request: the folder's
// description and views, and its jobs nested three levels deep.
var listTree = func() string {
	jobs := "jobs[" + jobFields + "]"
	for i := 0; i < 2; i++ {
		jobs = "jobs[" + jobFields + "," + jobs + "]"
	}
	return "description," + jobs + ",views[name,description,jobs[name]]"
}()

// ListFolder lists a folder (e.g. "modelshop") in one request. A folder
// that does not exist lists as Exists false, with no error.
func (c *Client) ListFolder(ctx context.Context, folder string) (*Folder, error) {
	var raw struct {
		Description *string `json:"description"`
		Jobs        []Job   `json:"jobs"`
		Views       []struct {
			Name        string  `json:"name"`
			Description *string `json:"description"`
			Jobs        []struct {
				Name string `json:"name"`
			} `json:"jobs"`
		} `json:"views"`
	}
	err := c.getJSON(ctx, "listing", folder, jobPath(folder), map[string]string{"tree": listTree}, &raw)
	if IsNotFound(err) {
		return &Folder{Name: folder, Jobs: []Job{}, Views: []View{}}, nil
	}
	if err != nil {
		return nil, err
	}
	f := &Folder{Name: folder, Exists: true, Jobs: raw.Jobs, Views: []View{}}
	if f.Jobs == nil {
		f.Jobs = []Job{}
	}
	if raw.Description != nil {
		f.Description = *raw.Description
	}
	for _, v := range raw.Views {
		lv := View{Name: v.Name, Jobs: []string{}}
		if v.Description != nil {
			lv.Description = *v.Description
		}
		for _, j := range v.Jobs {
			lv.Jobs = append(lv.Jobs, j.Name)
		}
		sort.Strings(lv.Jobs)
		f.Views = append(f.Views, lv)
	}
	return f, nil
}

// Plugin is an installed plugin.
type Plugin struct {
	ShortName string `json:"shortName"`
	Version   string `json:"version"`
	Active    bool   `json:"active"`
	Enabled   bool   `json:"enabled"`
}

// Plugins lists the master's plugins, by short name (depth 1: gojenkins'
// types fail to decode depth 2).
func (c *Client) Plugins(ctx context.Context) (map[string]Plugin, error) {
	var raw struct {
		Plugins []Plugin `json:"plugins"`
	}
	if err := c.getJSON(ctx, "listing", "plugins", "/pluginManager", map[string]string{"depth": "1"}, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]Plugin, len(raw.Plugins))
	for _, p := range raw.Plugins {
		out[p.ShortName] = p
	}
	return out, nil
}

// PluginVersion is the comparable part of a Jenkins plugin version: its
// leading numeric dotted segments. Jenkins plugins mix release versions
// ("2.16.0") with incrementals ("1520.v56d65e3b_4566", "6.1012.v79a_86a_1ea_c1f"),
// whose tail after the numbers is a commit id that has no order; a
// constraint is checked against the numbers only ("1520.v56d65e3b_4566" is
// 1520, "2.16.0-rc1" is 2.16.0).
func PluginVersion(v string) string {
	var segs []string
	for _, s := range strings.Split(v, ".") {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 {
			break
		}
		segs = append(segs, s[:n])
		if n < len(s) {
			break
		}
	}
	return strings.Join(segs, ".")
}
