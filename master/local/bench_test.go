package local

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks. Run them with TMPDIR on a fast disk:
//
//	TMPDIR=/work/tmp go test -run '^$' -bench . -benchtime 20x ./master/local/
//
// They report, besides ns/op: builds/s (BenchmarkBuilds500), creates/s
// (BenchmarkCreate1000) and MB-HWM, the test process's peak resident set
// size (VmHWM), which for BenchmarkList10000 covers 10,000 jobs in memory.

// listTree is what jobctl's master package asks for to list every job
// with its last build, in one request.
const listTree = "jobs[name,url,color,description,lastBuild[number,timestamp,result,building,duration],jobs[...]]"

func workerXML(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile("testdata/worker.xml")
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

var list10000 struct {
	once sync.Once
	tm   *tmaster
	took time.Duration
}

// BenchmarkList10000 lists 10,000 jobs (jobctl's real worker configs,
// 200 of them with a build) with their last build in one request.
func BenchmarkList10000(b *testing.B) {
	list10000.once.Do(func() {
		dir, err := os.MkdirTemp("", "jobctl-master-bench-list10000-")
		if err != nil {
			b.Fatal(err)
		}
		keepUntilExit(dir)
		tm := startMaster(b, Config{Home: dir}) // kept for every round
		cfg := []byte(workerXML(b))
		start := time.Now()
		tm.mustCreate(b, "", "folder", folderXML)
		for i := 0; i < 10000; i++ {
			parent := tm.m.root
			if i%10 == 0 {
				parent = tm.m.root.child("folder")
			}
			if it, _, msg := tm.m.createItemFromXML(parent, fmt.Sprintf("worker-%05d-v1-0123456789ab", i), cfg); it == nil {
				b.Fatal(msg)
			}
		}
		list10000.took = time.Since(start)
		tm.mustCreate(b, "", "trivial", freestyle{shell: []string{"true"}, concurrent: true, params: stringParam("N", "")}.xml())
		var ids []int64
		for i := 0; i < 200; i++ {
			ids = append(ids, tm.trigger(b, "job/trivial/", url.Values{"N": {fmt.Sprint(i)}}))
			tm.m.mu.Lock()
			it := tm.m.root.child(fmt.Sprintf("worker-%05d-v1-0123456789ab", i*7+1))
			tm.m.mu.Unlock()
			if it != nil {
				tm.m.mu.Lock()
				tm.m.enqueue(it, nil, []cause{userCause("")}, 0)
				tm.m.mu.Unlock()
			}
		}
		for _, id := range ids {
			tm.waitQueue(b, id)
		}
		list10000.tm = tm
	})
	tm := list10000.tm
	runtime.GC()
	b.ResetTimer()
	var size int
	for i := 0; i < b.N; i++ {
		r := tm.get("api/json?tree=" + listTree)
		if r.status != http.StatusOK {
			b.Fatal(r)
		}
		size = len(r.body)
	}
	b.StopTimer()
	b.ReportMetric(float64(vmHWM())/1e6, "MB-HWM")
	b.ReportMetric(float64(size)/1e6, "MB/response")
	b.Logf("creating 10,000 jobs directly took %v", list10000.took.Round(time.Millisecond))
}

// BenchmarkCreate1000 creates 1,000 jobs (jobctl's real worker config,
// 37 KB) through createItem, one client after the other; one op is 1,000
// requests.
func BenchmarkCreate1000(b *testing.B) {
	cfg := workerXML(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tm := newTestMaster(b, Config{Home: benchHome(b, fmt.Sprintf("create1000-%d", i))})
		tm.getCrumb()
		b.StartTimer()
		for j := 0; j < 1000; j++ {
			r := tm.post(fmt.Sprintf("createItem?name=job-%04d", j), "application/xml", cfg)
			if r.status != 200 {
				b.Fatal(r)
			}
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "creates/s")
	b.ReportMetric(float64(vmHWM())/1e6, "MB-HWM")
}

// BenchmarkBuilds500 queues 500 trivial freestyle builds on a master with
// 2 executors and waits for them all; one op is 500 builds.
func BenchmarkBuilds500(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tm := newTestMaster(b, Config{Home: benchHome(b, fmt.Sprintf("builds500-%d", i)), Executors: 2})
		tm.mustCreate(b, "", "trivial", freestyle{shell: []string{"true"}, concurrent: true, params: stringParam("N", "")}.xml())
		b.StartTimer()
		var last int64
		for j := 0; j < 500; j++ {
			r := tm.post("job/trivial/buildWithParameters", "application/x-www-form-urlencoded", fmt.Sprintf("N=%d", j))
			if r.status != http.StatusCreated {
				b.Fatal(r)
			}
			loc := strings.TrimSuffix(r.header.Get("Location"), "/")
			fmt.Sscan(loc[strings.LastIndexByte(loc, '/')+1:], &last)
		}
		n := tm.waitQueue(b, last)
		for k := 1; k <= n; k++ {
			tm.waitBuild(b, "job/trivial/", k)
		}
	}
	b.ReportMetric(float64(b.N)*500/b.Elapsed().Seconds(), "builds/s")
}

// benchHome is a fresh home under TMPDIR, removed after the round.
func benchHome(b *testing.B, name string) string {
	dir, err := os.MkdirTemp("", "jobctl-master-bench-"+name+"-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

var atExit struct {
	sync.Mutex
	dirs []string
}

// keepUntilExit removes dir when the test binary ends.
func keepUntilExit(dir string) {
	atExit.Lock()
	defer atExit.Unlock()
	atExit.dirs = append(atExit.dirs, dir)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if list10000.tm != nil {
		list10000.tm.m.Close(context.Background())
	}
	for _, d := range atExit.dirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}
