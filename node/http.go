package node

import (
	"io"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lakenode/lakenode/node/output"
)

// httpHandler serves EdgeLake's REST command port: the command in a
// `command` header of a GET or POST to /, the reply body as the shell prints
// it. Also /metrics (Prometheus), /healthz and Go's profiles under
// /debug/pprof/ (behind the token like every command: a CPU profile or an
// execution trace costs the node work; no cmdline, which would show the
// node's arguments).
func (n *Node) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "use GET or POST with the command in a `command` header", http.StatusMethodNotAllowed)
			return
		}
		cmd := strings.TrimSpace(r.Header.Get("command"))
		if cmd == "" {
			http.Error(w, "missing `command` header, e.g. curl -H \"command: get processes\" http://"+r.Host+"/", http.StatusBadRequest)
			return
		}
		if strings.EqualFold(strings.TrimSpace(r.Header.Get("destination")), "network") && !strings.HasPrefix(strings.ToLower(cmd), "run client") {
			cmd = "run client () " + cmd
		}
		var st *restStream
		res := n.Execute(r.Context(), cmd, ExecOptions{REST: true, Stream: func(notices []string) io.Writer {
			st = startRESTStream(w, notices)
			return st
		}})
		if res.Streamed {
			if res.Err != nil {
				st.fail(res.ErrorText())
			}
			return
		}
		for _, note := range res.Notices {
			w.Header().Add("X-Lakenode-Notice", sanitizeHeader(note))
		}
		switch {
		case res.Err != nil && res.Internal:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(res.ErrorText() + "\n"))
		case res.Err != nil:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(res.ErrorText() + "\n"))
		default:
			switch {
			case res.JSON:
				w.Header().Set("Content-Type", "application/json")
			case res.CSV:
				w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
			default:
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			}
			_, _ = w.Write([]byte(res.Text))
		}
	})
	return mux
}

// restStream is a streamed REST reply (see stream.go): status 200 and
// chunked rows, flushed as they come; an error after the first row ends
// the body with an {"Error" : "..."} line and sets the X-Lakenode-Error
// trailer.
type restStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	ctype   string // the body's content type (application/json unless set)
	started bool
}

const errorTrailer = "X-Lakenode-Error"

func startRESTStream(w http.ResponseWriter, notices []string) *restStream {
	for _, note := range notices {
		w.Header().Add("X-Lakenode-Notice", sanitizeHeader(note))
	}
	return &restStream{w: w, rc: http.NewResponseController(w), ctype: "application/json"}
}

// SetContentType sets the body's content type before its first byte.
func (s *restStream) SetContentType(ct string) { s.ctype = ct }

// begin sends the status and headers, once.
func (s *restStream) begin() {
	if s.started {
		return
	}
	s.started = true
	s.w.Header().Set("Content-Type", s.ctype)
	s.w.Header().Set("Trailer", errorTrailer)
	s.w.WriteHeader(http.StatusOK)
}

func (s *restStream) Write(b []byte) (int, error) {
	s.begin()
	return s.w.Write(b)
}

func (s *restStream) Flush() error {
	s.begin()
	return s.rc.Flush()
}

func (s *restStream) fail(text string) {
	s.begin()
	_, _ = s.w.Write(output.AppendJSON([]byte(`{"Error" : `), text))
	_, _ = s.w.Write([]byte("}\n"))
	s.w.Header().Set(errorTrailer, sanitizeHeader(text))
}

func sanitizeHeader(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// metrics exports the node's counters to Prometheus, read at scrape time.
type metrics struct {
	reg *prometheus.Registry
}

func newMetrics(n *Node) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&nodeCollector{n: n})
	return &metrics{reg: reg}
}

var (
	descRows  = prometheus.NewDesc("lakenode_partition_rows_total", "Rows mapped from a partition.", []string{"consumer", "topic", "partition"}, nil)
	descMsgs  = prometheus.NewDesc("lakenode_partition_messages_total", "Messages consumed from a partition.", []string{"consumer", "topic", "partition"}, nil)
	descErrs  = prometheus.NewDesc("lakenode_partition_rejected_total", "Messages rejected by the mapping, by reason.", []string{"consumer", "topic", "partition", "reason"}, nil)
	descLag   = prometheus.NewDesc("lakenode_partition_lag", "High watermark minus the durable low-water mark.", []string{"consumer", "topic", "partition"}, nil)
	descTRow  = prometheus.NewDesc("lakenode_table_rows", "Rows stored in a table.", []string{"dbms", "table"}, nil)
	descFree  = prometheus.NewDesc("lakenode_disk_free_bytes", "Free bytes on the data dir's filesystem (last reading, at most 100 ms old).", nil, nil)
	descMinF  = prometheus.NewDesc("lakenode_disk_min_free_bytes", "The free space ingest keeps (--min-free).", nil, nil)
	descDiskP = prometheus.NewDesc("lakenode_ingest_paused_disk_full", "1 while ingest is paused because the disk is below --min-free.", nil, nil)
	descCache = prometheus.NewDesc("lakenode_store_block_cache_bytes", "Bytes in the store's block cache (outside the Go heap).", nil, nil)
	descCCap  = prometheus.NewDesc("lakenode_store_block_cache_capacity_bytes", "The block cache's size (--cache-size).", nil, nil)
	descMemT  = prometheus.NewDesc("lakenode_store_memtable_bytes", "Bytes allocated by the store's memtables, live and zombie (outside the Go heap).", nil, nil)
	descOpenT = prometheus.NewDesc("lakenode_store_open_table_readers", "Sstables with an open reader.", nil, nil)
	descOpenB = prometheus.NewDesc("lakenode_store_open_table_reader_bytes", "Pebble's estimate of the memory of the open sstable readers.", nil, nil)
	descFHeld = prometheus.NewDesc("lakenode_consumer_fetch_unmapped_bytes", "Bytes of records a consumer fetched and has not mapped yet (bounded by its fetch budget).", []string{"consumer"}, nil)
	descFWait = prometheus.NewDesc("lakenode_consumer_fetch_waits_total", "Times a consumer's fetching waited for its mapping to catch up.", []string{"consumer"}, nil)
	descStall = prometheus.NewDesc("lakenode_store_write_stalls_total", "Times the store stalled every write (memtables waiting for a flush, or too many L0 sublevels).", nil, nil)
	descStalT = prometheus.NewDesc("lakenode_store_write_stall_seconds_total", "Seconds writes were stalled, a running stall included.", nil, nil)
	descL0Sub = prometheus.NewDesc("lakenode_store_l0_sublevels", "Sublevels of the store's L0 (reads and stalls grow with them).", nil, nil)
	descDebt  = prometheus.NewDesc("lakenode_store_compaction_debt_bytes", "Pebble's estimate of the bytes compactions still have to rewrite.", nil, nil)
	descFlush = prometheus.NewDesc("lakenode_store_flushed_bytes_total", "Sstable bytes written by memtable flushes.", nil, nil)
	descCompB = prometheus.NewDesc("lakenode_store_compacted_bytes_total", "Sstable bytes written by compactions (moves not counted).", nil, nil)
	descSealR = prometheus.NewDesc("lakenode_store_sealed_rows_total", "Rows sealed into column blocks (--seal-after after their commit).", nil, nil)
	descSealD = prometheus.NewDesc("lakenode_store_sealed_rows_range_deleted_total", "Of the rows sealed, those removed with range deletes (the others with point deletes, whose tombstones compactions carry).", nil, nil)
	descSealN = prometheus.NewDesc("lakenode_store_seal_read_rows_total", "Rows seal passes read, sealed or (too new) not: over the sealed rows, how often sealing reads each.", nil, nil)
	descSealL = prometheus.NewDesc("lakenode_store_seal_block_bytes_total", "Sstable block bytes (compressed) seal passes loaded: from the files, or found in the block cache.", []string{"from"}, nil)
	descSealP = prometheus.NewDesc("lakenode_store_seal_points_total", "Keys seal passes stepped over inside Pebble, deleted and shadowed ones too: over the rows they read, the dead keys a pass skips.", nil, nil)
	descSealI = prometheus.NewDesc("lakenode_store_seal_iterators_total", "Pebble iterators seal passes opened (one per block and key range; each seeks every file that overlaps its range).", nil, nil)
	descSealB = prometheus.NewDesc("lakenode_store_sealed_blocks_total", "Column blocks written by sealing.", nil, nil)
	descMerge = prometheus.NewDesc("lakenode_store_merged_blocks_total", "Small column blocks merged into full ones (each counted once, when it is replaced).", nil, nil)
	descSealT = prometheus.NewDesc("lakenode_store_seal_seconds_total", "Seconds spent in seal passes.", nil, nil)
	descSealY = prometheus.NewDesc("lakenode_store_seal_yields_total", "Times a seal pass found ingest behind (a record older than 250 ms when it became visible) and slowed to a twentieth of a core: after each block, and every 100 ms while it pauses.", nil, nil)
)

type nodeCollector struct{ n *Node }

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRows
	ch <- descMsgs
	ch <- descErrs
	ch <- descLag
	ch <- descTRow
	ch <- descFree
	ch <- descMinF
	ch <- descDiskP
	ch <- descCache
	ch <- descCCap
	ch <- descMemT
	ch <- descOpenT
	ch <- descOpenB
	ch <- descFHeld
	ch <- descFWait
	ch <- descStall
	ch <- descStalT
	ch <- descL0Sub
	ch <- descDebt
	ch <- descFlush
	ch <- descCompB
	ch <- descSealR
	ch <- descSealD
	ch <- descSealB
	ch <- descMerge
	ch <- descSealN
	ch <- descSealL
	ch <- descSealP
	ch <- descSealI
	ch <- descSealY
	ch <- descSealT
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cs := range c.n.consumerStatuses() {
		id := strconv.Itoa(cs.ID)
		ch <- prometheus.MustNewConstMetric(descFHeld, prometheus.GaugeValue, float64(cs.Status.Fetch.Held), id)
		ch <- prometheus.MustNewConstMetric(descFWait, prometheus.CounterValue, float64(cs.Status.Fetch.Waits), id)
		for _, p := range cs.Status.Partitions {
			part := strconv.Itoa(int(p.Partition))
			ch <- prometheus.MustNewConstMetric(descRows, prometheus.CounterValue, float64(p.Rows), id, p.Topic, part)
			ch <- prometheus.MustNewConstMetric(descMsgs, prometheus.CounterValue, float64(p.Messages), id, p.Topic, part)
			for reason, v := range p.ErrorsBy {
				ch <- prometheus.MustNewConstMetric(descErrs, prometheus.CounterValue, float64(v), id, p.Topic, part, reason)
			}
			if lag, ok := p.KnownLag(); ok {
				ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(lag), id, p.Topic, part)
			}
		}
	}
	if sp := c.n.store.Space().Status(); sp.Checked {
		paused := 0.0
		if sp.Full {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(descFree, prometheus.GaugeValue, float64(sp.Free))
		ch <- prometheus.MustNewConstMetric(descMinF, prometheus.GaugeValue, float64(sp.Min))
		ch <- prometheus.MustNewConstMetric(descDiskP, prometheus.GaugeValue, paused)
	}
	mem := c.n.store.Memory()
	ch <- prometheus.MustNewConstMetric(descCache, prometheus.GaugeValue, float64(mem.BlockCacheBytes))
	ch <- prometheus.MustNewConstMetric(descCCap, prometheus.GaugeValue, float64(mem.BlockCacheCapacity))
	ch <- prometheus.MustNewConstMetric(descMemT, prometheus.GaugeValue, float64(mem.MemTableBytes+mem.MemTableZombie))
	ch <- prometheus.MustNewConstMetric(descOpenT, prometheus.GaugeValue, float64(mem.OpenTables))
	ch <- prometheus.MustNewConstMetric(descOpenB, prometheus.GaugeValue, float64(mem.OpenTableBytes))
	stalls, lsm := c.n.store.WriteStalls(), c.n.store.LSM()
	ch <- prometheus.MustNewConstMetric(descStall, prometheus.CounterValue, float64(stalls.Count))
	ch <- prometheus.MustNewConstMetric(descStalT, prometheus.CounterValue, stalls.Time.Seconds())
	ch <- prometheus.MustNewConstMetric(descL0Sub, prometheus.GaugeValue, float64(lsm.L0Sublevels))
	ch <- prometheus.MustNewConstMetric(descDebt, prometheus.GaugeValue, float64(lsm.CompactionDebt))
	ch <- prometheus.MustNewConstMetric(descFlush, prometheus.CounterValue, float64(lsm.FlushedBytes))
	ch <- prometheus.MustNewConstMetric(descCompB, prometheus.CounterValue, float64(lsm.CompactedBytes))
	sealed := c.n.store.Sealed()
	ch <- prometheus.MustNewConstMetric(descSealR, prometheus.CounterValue, float64(sealed.Rows))
	ch <- prometheus.MustNewConstMetric(descSealD, prometheus.CounterValue, float64(sealed.RangeDeleted))
	ch <- prometheus.MustNewConstMetric(descSealB, prometheus.CounterValue, float64(sealed.Blocks))
	ch <- prometheus.MustNewConstMetric(descMerge, prometheus.CounterValue, float64(sealed.Merged))
	ch <- prometheus.MustNewConstMetric(descSealN, prometheus.CounterValue, float64(sealed.Read))
	ch <- prometheus.MustNewConstMetric(descSealL, prometheus.CounterValue, float64(sealed.BlockBytes-sealed.CachedBytes), "files")
	ch <- prometheus.MustNewConstMetric(descSealL, prometheus.CounterValue, float64(sealed.CachedBytes), "cache")
	ch <- prometheus.MustNewConstMetric(descSealP, prometheus.CounterValue, float64(sealed.Points))
	ch <- prometheus.MustNewConstMetric(descSealI, prometheus.CounterValue, float64(sealed.Iters))
	ch <- prometheus.MustNewConstMetric(descSealT, prometheus.CounterValue, sealed.Time.Seconds())
	ch <- prometheus.MustNewConstMetric(descSealY, prometheus.CounterValue, float64(c.n.sealYields.Load()))
	for _, t := range c.n.store.Tables() {
		st := c.n.store.Stats(t)
		ch <- prometheus.MustNewConstMetric(descTRow, prometheus.GaugeValue, float64(st.Rows), t.DBMS, t.Name)
	}
}
