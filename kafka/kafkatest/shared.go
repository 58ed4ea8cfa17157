package kafkatest

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// mainRunning is set by Main: Shared needs it to stop the shared broker.
var mainRunning atomic.Bool

var shared struct {
	once sync.Once
	b    *Broker
	err  error
}

// Main runs the tests of a package and then stops its shared broker and
// removes the files kafkatest made. Call it from the package's TestMain:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	if shared.b != nil {
		shared.b.close(true)
	}
	removeKfakeBin()
	os.Exit(code)
}

// Shared returns the broker shared by the tests of this test binary,
// starting it on first use (of the kind the environment asks for, see
// FromEnv). It fails the test if the package's TestMain does not call Main,
// which stops the broker; if the broker cannot start, every test that asks
// for it fails with the same error. Tests must not stop, kill or restart
// the shared broker.
func Shared(t testing.TB) *Broker {
	t.Helper()
	if !mainRunning.Load() {
		t.Fatal("kafkatest.Shared needs `func TestMain(m *testing.M) { kafkatest.Main(m) }` in the test package")
	}
	shared.once.Do(func() {
		var dir string
		if dir, shared.err = os.MkdirTemp("", "kafkatest-shared-"); shared.err != nil {
			return
		}
		shared.b, shared.err = fromEnv(dir)
		if shared.err != nil {
			_ = os.RemoveAll(dir)
		}
	})
	if shared.err != nil {
		t.Fatalf("kafkatest: the shared broker: %v", shared.err)
	}
	return shared.b
}

// FromEnv returns a broker for this test, stopped at its end:
// LAKENODE_TEST_KAFKA=host:port names an external broker (Kind "external",
// which cannot be stopped or restarted); otherwise LAKENODE_TEST_BROKER=kfake
// (the default) or apache starts one as StartKfake or StartApache do.
func FromEnv(t testing.TB) *Broker {
	t.Helper()
	b, err := fromEnv(t.TempDir())
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(func() { b.close(false) })
	return b
}

func fromEnv(dir string) (*Broker, error) {
	if addr := os.Getenv("LAKENODE_TEST_KAFKA"); addr != "" {
		return &Broker{kind: KindExternal, addr: addr}, nil
	}
	switch k := os.Getenv("LAKENODE_TEST_BROKER"); k {
	case "", KindKfake:
		return newKfake(dir)
	case KindApache:
		return newApache(dir)
	default:
		return nil, fmt.Errorf("LAKENODE_TEST_BROKER=%q: want kfake or apache", k)
	}
}
