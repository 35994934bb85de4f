package master_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/master"
	"github.com/jobctl/jobctl/master/local"
)

func TestLatestVersion(t *testing.T) {
	f := &master.Folder{Views: []master.View{{Name: "latest", Jobs: []string{
		"fetch-v2-0123456789ab", "fetch_model-v3-0123456789ab", "fetch_model-v12-ba9876543210", "not-jobctl",
	}}}}
	tests := []struct {
		name, view string
		want       string
		ok         bool
	}{
		{name: "fetch_model", view: "latest", want: "fetch_model-v12-ba9876543210", ok: true},
		{name: "fetch", view: "latest", want: "fetch-v2-0123456789ab", ok: true},
		{name: "price", view: "latest"},
		{name: "fetch", view: "other"},
	}
	for _, tt := range tests {
		got, ok := master.LatestVersion(f, tt.view, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LatestVersion(%s, %s) = %q, %v; want %q, %v", tt.view, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseQueueURL(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{in: "http://h:8080/queue/item/12/", ok: true},
		{in: "http://h/jenkins/queue/item/12", ok: true},
		{in: "http://h/queue/item/x/"},
		{in: "http://h/job/a/1/"},
	}
	for _, tt := range tests {
		if err := master.ParseQueueURL(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseQueueURL(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

// deployExample deploys the example to a local master and returns a
// client and the full name of a job's latest version.
func deployExample(t *testing.T, cfg local.Config, name string) (*master.Client, string, string) {
	t.Helper()
	base := startLocal(t, cfg)
	c, err := master.New(context.Background(), master.Config{URL: base, User: cfg.User, Token: cfg.Token, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res := compile(t, example(t))
	deploy(t, c, master.FromResult(res), time.Now())
	f, err := c.ListFolder(context.Background(), res.Project.Name)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := master.LatestVersion(f, compiler.ViewName, name)
	if !ok {
		t.Fatalf("%s is not in the view after a deploy", name)
	}
	return c, base, res.Project.Name + "/" + d
}

func TestTriggerWaitReport(t *testing.T) {
	ctx := context.Background()
	c, _, job := deployExample(t, local.Config{}, "price_model")
	q, err := c.Trigger(ctx, job, url.Values{"VOLUME_MM3": {"8000"}, "MATERIAL": {"pla"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q, "/queue/item/") {
		t.Fatalf("Trigger returned %q, want a queue item URL", q)
	}
	var states []string
	o, err := c.Wait(ctx, q, master.WaitOptions{Poll: 20 * time.Millisecond, Progress: func(s string) { states = append(states, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if o.Cancelled || o.Build == nil || o.Build.Result != "SUCCESS" {
		t.Fatalf("outcome %+v (states %v)", o, states)
	}
	rep, err := c.Report(ctx, o.Build)
	if err != nil || rep == nil {
		t.Fatalf("report: %v, %v", rep, err)
	}
	if diff := cmp.Diff(map[string]any{"price": 5.5, "currency": "EUR"}, map[string]any{"price": rep.Data["price"], "currency": rep.Data["currency"]}); diff != "" {
		t.Errorf("report data (-want +got):\n%s", diff)
	}
	log, err := c.Log(ctx, o.Build.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if log.More || !strings.Contains(log.Text, "Finished: SUCCESS") {
		t.Errorf("console (more %v):\n%s", log.More, log.Text)
	}
	rest, err := c.Log(ctx, o.Build.URL, log.Next)
	if err != nil || rest.Text != "" {
		t.Errorf("the console after its end: %q, %v", rest.Text, err)
	}
	b, err := c.Build(ctx, job, 0)
	if err != nil || b.Number != o.Build.Number {
		t.Errorf("the last build: %+v, %v; want #%d", b, err, o.Build.Number)
	}
	q2, err := c.Queue(ctx, q)
	if err != nil || q2.State() != "left" || q2.Executable == nil {
		t.Errorf("the queue item after the build: %+v, %v", q2, err)
	}
}

// TestWaitCancelled: an item cancelled in the queue ends Wait, and a
// context ends it early (the item stays queued).
func TestWaitCancelled(t *testing.T) {
	ctx := context.Background()
	const user, token = "admin", "tok-0a1b2c3d4e5f"
	c, base, job := deployExample(t, local.Config{User: user, Token: token, QuietPeriod: time.Hour}, "price_model")
	q, err := c.Trigger(ctx, job, url.Values{"VOLUME_MM3": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	// The context ends once Wait has seen the item waiting (however long
	// that takes on a loaded machine), and a few polls later.
	short, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	o, err := c.Wait(short, q, master.WaitOptions{Poll: 20 * time.Millisecond, Progress: func(string) {
		once.Do(func() { time.AfterFunc(100*time.Millisecond, cancel) })
	}})
	if !errors.Is(err, context.Canceled) || o == nil || o.Queue.State() != "waiting" {
		t.Fatalf("Wait with a short context: %+v, %v; want the item waiting and the context's error", o, err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the error holds the token: %v", err)
	}
	id := strings.TrimSuffix(q[strings.Index(q, "/queue/item/")+len("/queue/item/"):], "/")
	req, _ := http.NewRequest(http.MethodPost, base+"queue/cancelItem?id="+id, nil)
	req.SetBasicAuth(user, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o, err = c.Wait(ctx, q, master.WaitOptions{Poll: 20 * time.Millisecond})
	if err != nil || !o.Cancelled || o.Build != nil {
		t.Errorf("Wait on a cancelled item: %+v, %v", o, err)
	}
}

// TestTriggerNotRepeated: a trigger whose response never comes is not
// sent again (it may have queued a build); the error names the verb and
// the job.
func TestTriggerNotRepeated(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Jenkins", "2.578")
		if r.Method == http.MethodPost {
			posts.Add(1)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"_class":"hudson.model.Hudson"}`))
	}))
	defer srv.Close()
	c, err := master.New(context.Background(), master.Config{URL: srv.URL, Token: "tok-secret", Timeout: 200 * time.Millisecond, Retries: 3, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Trigger(context.Background(), "p/job-v1-0123456789ab", url.Values{"A": {"1"}})
	if err == nil || !strings.Contains(err.Error(), "triggering p/job-v1-0123456789ab") || strings.Contains(err.Error(), "tok-secret") {
		t.Errorf("error %v does not name the verb and job (or holds the token)", err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("the trigger was sent %d times, want 1", n)
	}
}
