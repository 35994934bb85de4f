package master_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
	"github.com/jobctl/jobctl/master/local"
)

// createCounter counts, on the master's side, the createItem requests it
// answered 200, by item name.
type createCounter struct {
	mu      sync.Mutex
	created map[string]int
	next    http.Handler
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (c *createCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	c.next.ServeHTTP(rec, r)
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/createItem") && rec.status == 200 {
		c.mu.Lock()
		c.created[r.URL.Query().Get("name")]++
		c.mu.Unlock()
	}
}

// faulty is a reverse proxy that, on a fifth of the requests, answers 500
// without forwarding, drops the connection (before forwarding, or after:
// the request takes effect but its response is lost), or stalls 2 seconds
// before forwarding (the client has given up by then; the request still
// reaches the master, late).
type faulty struct {
	mu     sync.Mutex
	rnd    *rand.Rand
	proxy  *httputil.ReverseProxy
	faults map[string]int
}

func newFaulty(upstream string, seed uint64) *faulty {
	u, _ := url.Parse(upstream)
	p := httputil.NewSingleHostReverseProxy(u)
	p.ErrorLog = log.New(io.Discard, "", 0)
	return &faulty{rnd: rand.New(rand.NewPCG(seed, 1)), proxy: p, faults: map[string]int{}}
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fault := ""
	if f.rnd.IntN(5) == 0 {
		fault = []string{"500", "drop", "drop-after", "stall"}[f.rnd.IntN(4)]
		f.faults[fault]++
	}
	f.mu.Unlock()
	// The upstream request outlives the client's: a stalled request still
	// reaches the master.
	r = r.WithContext(context.WithoutCancel(r.Context()))
	switch fault {
	case "500":
		http.Error(w, "injected failure", http.StatusInternalServerError)
	case "drop":
		hijackClose(w)
	case "drop-after":
		f.proxy.ServeHTTP(httptest.NewRecorder(), r)
		hijackClose(w)
	case "stall":
		time.Sleep(2 * time.Second)
		f.proxy.ServeHTTP(w, r)
	default:
		f.proxy.ServeHTTP(w, r)
	}
}

func hijackClose(w http.ResponseWriter) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

// checkView checks that every job the project's view lists exists, and so
// does every job it calls.
func checkView(t *testing.T, c *master.Client, attempt int) {
	t.Helper()
	f, err := c.ListFolder(context.Background(), "modelshop")
	if err != nil {
		t.Fatal(err)
	}
	v := f.View(compiler.ViewName)
	if v == nil {
		return
	}
	for _, name := range v.Jobs {
		j := f.Job(name)
		if j == nil {
			t.Errorf("attempt %d: the view lists %s, which does not exist", attempt, name)
			continue
		}
		mk, _ := jobs.ParseMarker(j.Description)
		for _, callee := range mk.Calls {
			if f.Job(callee) == nil {
				t.Errorf("attempt %d: the view lists %s, which calls %s, which does not exist", attempt, name, callee)
			}
		}
	}
}

// TestDeployThroughFaults deploys through a proxy that fails a fifth of
// the requests, again and again until a deploy succeeds, twice (all new,
// then one worker changed): it converges, creates nothing twice,
// overwrites nothing, and the view never lists a job whose callees are
// missing.
func TestDeployThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("stalls take seconds")
	}
	for _, seed := range []uint64{5, 6, 7, 8} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			deployThroughFaults(t, seed)
		})
	}
}

func deployThroughFaults(t *testing.T, seed uint64) {
	m, err := local.New(local.Config{Home: filepath.Join(t.TempDir(), "home")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	counts := &createCounter{created: map[string]int{}, next: m.Handler()}
	direct := httptest.NewServer(counts)
	t.Cleanup(direct.Close)
	proxy := newFaulty(direct.URL, seed)
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	checker := client(t, direct.URL+"/", nil)

	dir := example(t)
	var results []*compiler.Result
	for round := 0; round < 2; round++ {
		if round == 1 {
			changeWorker(t, dir, "inspect_model")
		}
		res := compile(t, dir)
		results = append(results, res)
		b := master.FromResult(res)
		ok := false
		for attempt := 1; attempt <= 40 && !ok; attempt++ {
			ctx := context.Background()
			c, err := master.New(ctx, master.Config{URL: front.URL + "/", Timeout: 500 * time.Millisecond, Retries: 1, Backoff: 20 * time.Millisecond})
			if err == nil {
				var p *master.DeployPlan
				if p, err = c.PlanDeploy(ctx, b, time.Now()); err == nil {
					_, err = c.Apply(ctx, p, master.ApplyOptions{Concurrency: 4})
				}
			}
			ok = err == nil
			t.Logf("round %d attempt %d: %v", round, attempt, err)
			checkView(t, checker, attempt)
		}
		if !ok {
			t.Fatalf("round %d: no deploy succeeded in 40 attempts", round)
		}
		f, err := checker.ListFolder(context.Background(), "modelshop")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.View(compiler.ViewName).Jobs; strings.Join(got, ",") != strings.Join(latest(res), ",") {
			t.Errorf("round %d: the view lists %v, want %v", round, got, latest(res))
		}
	}
	t.Logf("faults injected: %v", proxy.faults)
	for name, n := range counts.created {
		if n != 1 {
			t.Errorf("%s was created %d times", name, n)
		}
	}
	seen := map[string]bool{}
	for _, res := range results {
		for _, d := range res.Defs {
			if seen[d.Deployed] {
				continue
			}
			seen[d.Deployed] = true
			got := httpGet(t, direct.URL+"/job/modelshop/job/"+d.Deployed+"/config.xml")
			if withoutDecl(got) != withoutDecl(string(d.XML)) {
				t.Errorf("config.xml of %s is not the compiled XML", d.Deployed)
			}
			if counts.created[d.Deployed] != 1 {
				t.Errorf("%s: created %d times, want 1", d.Deployed, counts.created[d.Deployed])
			}
		}
	}
}
