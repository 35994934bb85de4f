package master

import (
	"context"
	"sync"
)

// runOrdered runs run(i) for every i in 0..n-1, at most conc at a time,
// each only after every item in wait[i] has finished. When one of those
// did not succeed, or ctx ends first, run(i) is not called: skip(i, dep,
// depFailed) is, with dep the item it was waiting for (-1 when ctx ended
// while it waited for a slot) and depFailed whether that item failed
// (false: ctx ended). Deploy creates callees before their callers with
// it; prune deletes callers before their callees. It returns which items
// succeeded; skipped items count as not.
func runOrdered(ctx context.Context, n, conc int, wait [][]int, run func(i int) error, skip func(i, dep int, depFailed bool)) []bool {
	if conc <= 0 {
		conc = 1
	}
	ok := make([]bool, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded := func(i int) bool {
		mu.Lock()
		defer mu.Unlock()
		return ok[i]
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			for _, dep := range wait[i] {
				select {
				case <-done[dep]:
				case <-ctx.Done():
				}
				finished := isDone(done[dep])
				failed := finished && !succeeded(dep)
				if !finished || failed || ctx.Err() != nil {
					skip(i, dep, failed)
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				skip(i, -1, false)
				return
			}
			err := run(i)
			<-sem
			mu.Lock()
			ok[i] = err == nil
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ok
}

// isDone reports whether ch is closed.
func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
