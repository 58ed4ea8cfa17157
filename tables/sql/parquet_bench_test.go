package sql_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// BenchmarkEncodingChoice measures the two ways of storing sealed rows
// that the encoding issue weighs, on the same rows in the same run: N rows
// of the BenchmarkQuery workload (10 M by default; LAKENODE_BENCH_ROWS=N)
// are applied with identical calls into two stores, A and B.
//
// Own blocks (store A): Seal of every row (what it times: reading the rows
// from a snapshot, encoding the blocks, the batches that write them
// and delete the rows), then Compact; bytes/row is Stats.DiskBytes; the
// three queries run through lsql.Query, the general SQL engine (parse,
// plan, vectorised execution), single-threaded.
//
// Parquet (store B, never sealed): the same rows read in key order through
// View.Scan and written with parquet-go as one file of row groups of
// tables.BlockRows rows with every column of the table (system columns and
// table columns; the block's row-key columns src, partition, offset and
// elem are not readable through the public API and are left out), then
// fsync. It times the read and the write, not the deletion of the rows a
// Pebble batch would add. Bytes/row is the file's size. The queries are
// hand-written for these three statements over parquet-go's page API
// (open the file, skip row groups by the timestamp chunk's min/max, read
// only the needed columns' pages into typed slices, group by dictionary
// index), single-threaded; their answers must equal lsql's. Hand-written
// code for one statement against a general engine favours Parquet's query
// times beyond what its encoding is worth; and Parquet's statistics hold no
// sums, so an aggregate over whole row groups still decodes their values
// where a block header answers it.
//
// Every query time is the median of 5 after a warm-up run.
// LAKENODE_PARQUET_CODEC=zstd,snappy,none measures one Parquet file per
// codec (default zstd: the smallest file, its queries within the noise of
// Snappy's and uncompressed ones').
func BenchmarkEncodingChoice(b *testing.B) {
	n := 10_000_000
	if v := os.Getenv("LAKENODE_BENCH_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	codecs := []string{"zstd"}
	if v := os.Getenv("LAKENODE_PARQUET_CODEC"); v != "" {
		codecs = strings.Split(v, ",")
	}
	ctx := context.Background()
	dir := b.TempDir()
	now := time.Now()
	a, ta := openEncStore(b, filepath.Join(dir, "a"))
	defer func() { _ = a.Close() }()
	sb, tb := openEncStore(b, filepath.Join(dir, "b"))
	defer func() { _ = sb.Close() }()
	t0 := time.Now()
	loadEncRows(b, n, now, []*tables.Store{a, sb}, []*schema.Table{ta, tb})
	fmt.Printf("encoding: loaded %d rows into two stores in %v\n", n, time.Since(t0).Round(time.Millisecond))

	qs := encQueries(now)
	own := measureOwn(ctx, b, a, ta, n, now, qs)
	fmt.Printf("encoding: own blocks: sealed %d rows into %d blocks in %v; %.2f bytes/row after compaction\n",
		n, own.blocks, own.seal.Round(time.Millisecond), own.bytes)
	for _, name := range codecs {
		pq := measureParquet(ctx, b, sb, tb, n, qs, own, name, filepath.Join(dir, "rows-"+name+".parquet"))
		reportEncoding(b, n, own, pq)
	}
}

func openEncStore(b *testing.B, dir string) (*tables.Store, *schema.Table) {
	s, err := tables.Open(dir, tables.WithCacheSize(256<<20))
	if err != nil {
		b.Fatal(err)
	}
	t, err := s.EnsureTable("bench", "ping_sensor", []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}})
	if err != nil {
		b.Fatal(err)
	}
	return s, t
}

// loadEncRows applies the same feeds to every store: 1,000 devices in no
// set order, times spread evenly over the last two days, values at random.
func loadEncRows(b *testing.B, n int, now time.Time, ss []*tables.Store, ts []*schema.Table) {
	span := int64(48 * time.Hour / time.Microsecond)
	start := now.UnixMicro() - span
	rng := rand.New(rand.NewPCG(1, 1))
	const batch = 50_000
	for base := 0; base < n; base += batch {
		f := workloadFeed(rng, base, min(base+batch, n), n, start, span)
		for k, s := range ss {
			if _, err := s.Apply(ts[k], []tables.Feed{f}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// encQuery is one of the three statements and its bounds for the
// hand-written Parquet side: timestamp in (lo, hi), value > vmin.
type encQuery struct {
	name, sql string
	lo, hi    int64
	vmin      int64
	group     bool
}

func encQueries(now time.Time) []encQuery {
	dayAgo := now.Add(-24 * time.Hour).UnixMicro()
	// A time bound that cuts blocks: the filter must decode them.
	cut := now.Add(-6*time.Hour - 17*time.Second).UnixMicro()
	cutS := time.UnixMicro(cut).UTC().Format("2006-01-02 15:04:05.000000")
	agg := "select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day"
	return []encQuery{
		{name: "q1", sql: agg, lo: dayAgo, hi: math.MaxInt64, vmin: math.MinInt64},
		{name: "q2", sql: agg + " and timestamp < '" + cutS + "' and value > 500", lo: dayAgo, hi: cut, vmin: 500},
		{name: "q3", sql: "select device_name, count(*), avg(value) from ping_sensor where timestamp > now() - 1 day group by device_name order by 3 desc, 1 limit 10",
			lo: dayAgo, hi: math.MaxInt64, vmin: math.MinInt64, group: true},
	}
}

// median5 runs f once to warm up, then five times, and returns the median.
func median5(f func() error) (time.Duration, error) {
	var durs []time.Duration
	for r := 0; r <= 5; r++ {
		t := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		if r > 0 {
			durs = append(durs, time.Since(t))
		}
	}
	slices.Sort(durs)
	return durs[len(durs)/2], nil
}

type ownResult struct {
	seal    time.Duration
	blocks  int
	bytes   float64 // per row
	ms      []float64
	answers []*lsql.Result
}

func measureOwn(ctx context.Context, b *testing.B, s *tables.Store, t *schema.Table, n int, now time.Time, qs []encQuery) ownResult {
	t0 := time.Now()
	res, err := s.Seal(ctx, t, now.Add(time.Hour).UnixMicro())
	if err != nil {
		b.Fatal(err)
	}
	r := ownResult{seal: time.Since(t0), blocks: res.Blocks}
	if res.Rows != n {
		b.Fatalf("sealed %d rows of %d", res.Rows, n)
	}
	if err := s.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	r.bytes = float64(s.Stats(t).DiskBytes) / float64(n)
	for _, q := range qs {
		var ans *lsql.Result
		d, err := median5(func() error {
			var err error
			ans, err = lsql.Query(ctx, s, "bench", q.sql, lsql.Options{Now: now})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		r.ms = append(r.ms, ms(d))
		r.answers = append(r.answers, ans)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

type pqResult struct {
	codec   string
	write   time.Duration
	bytes   float64 // per row
	groups  int
	open    float64 // ms, included in each query's time
	ms      []float64
	columns string // what describeParquet says
}

// describeParquet checks the file's row count and says, per column, its
// bytes per row in the file and the encodings of its data pages.
func describeParquet(path string, n int) (string, error) {
	fh, pf, err := openParquet(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = fh.Close() }()
	if pf.NumRows() != int64(n) {
		return "", fmt.Errorf("the Parquet file has %d rows, not %d", pf.NumRows(), n)
	}
	var names []string
	size := map[string]int64{}
	encs := map[string][]string{}
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			md := c.MetaData
			name := strings.Join(md.PathInSchema, ".")
			if _, ok := size[name]; !ok {
				names = append(names, name)
			}
			size[name] += md.TotalCompressedSize
			for _, st := range md.EncodingStats {
				if e := st.Encoding.String(); st.PageType != format.DictionaryPage && !slices.Contains(encs[name], e) {
					encs[name] = append(encs[name], e)
				}
			}
		}
	}
	var parts []string
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %.2f (%s)", name, float64(size[name])/float64(n), strings.Join(encs[name], "+")))
	}
	return strings.Join(parts, ", "), nil
}

func pqCodec(b *testing.B, name string) compress.Codec {
	switch name {
	case "zstd":
		return &parquet.Zstd
	case "snappy":
		return &parquet.Snappy
	case "none":
		return &parquet.Uncompressed
	}
	b.Fatalf("LAKENODE_PARQUET_CODEC: unknown codec %q (zstd, snappy, none)", name)
	return nil
}

func measureParquet(ctx context.Context, b *testing.B, s *tables.Store, t *schema.Table, n int, qs []encQuery, own ownResult, codec, path string) pqResult {
	r := pqResult{codec: codec}
	t0 := time.Now()
	size, err := writeParquet(ctx, s, t, path, pqCodec(b, codec))
	if err != nil {
		b.Fatal(err)
	}
	r.write = time.Since(t0)
	r.bytes = float64(size) / float64(n)
	if r.columns, err = describeParquet(path, n); err != nil {
		b.Fatal(err)
	}
	d, err := median5(func() error {
		fh, pf, err := openParquet(path)
		if err == nil {
			r.groups = len(pf.RowGroups())
			err = fh.Close()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	r.open = ms(d)
	for i, q := range qs {
		var got pqAnswer
		d, err := median5(func() error {
			var err error
			got, err = queryParquet(path, q)
			return err
		})
		if err != nil {
			b.Fatalf("%s over Parquet: %v", q.name, err)
		}
		if err := got.check(own.answers[i]); err != nil {
			b.Fatalf("%s (%s): the Parquet answer differs from lsql's: %v", q.name, codec, err)
		}
		r.ms = append(r.ms, ms(d))
	}
	return r
}

func reportEncoding(b *testing.B, n int, own ownResult, pq pqResult) {
	sealNs := float64(own.seal.Nanoseconds()) / float64(n)
	writeNs := float64(pq.write.Nanoseconds()) / float64(n)
	c := pq.codec + "_"
	b.ReportMetric(sealNs, "own_seal_ns/row")
	b.ReportMetric(own.bytes, "own_bytes/row")
	b.ReportMetric(writeNs, c+"parquet_write_ns/row")
	b.ReportMetric(pq.bytes, c+"parquet_bytes/row")
	var ownQ, pqQ, ratios []string
	for i := range own.ms {
		q := "q" + strconv.Itoa(i+1)
		b.ReportMetric(own.ms[i], "own_"+q+"_ms")
		b.ReportMetric(pq.ms[i], c+"parquet_"+q+"_ms")
		ownQ = append(ownQ, fmt.Sprintf("%s %.1f ms", q, own.ms[i]))
		pqQ = append(pqQ, fmt.Sprintf("%s %.1f ms", q, pq.ms[i]))
		ratios = append(ratios, fmt.Sprintf("%s %.2f", q, pq.ms[i]/own.ms[i]))
	}
	fmt.Printf("encoding: %d rows; own blocks: seal %.0f ns/row, %.2f bytes/row, %s; parquet (%s): write %.0f ns/row, %.2f bytes/row, %s; ratios parquet/own: write/seal %.2f, bytes %.2f, %s\n",
		n, sealNs, own.bytes, strings.Join(ownQ, ", "), pq.codec, writeNs, pq.bytes, strings.Join(pqQ, ", "),
		writeNs/sealNs, pq.bytes/own.bytes, strings.Join(ratios, ", "))
	fmt.Printf("encoding: parquet (%s): %d row groups of up to %d rows; its write time excludes the deletion of the rows that the seal's Pebble batch adds (own seal includes its reads, deletes and batches); each query's time includes opening the file (%.2f ms alone)\n",
		pq.codec, pq.groups, tables.BlockRows, pq.open)
	fmt.Printf("encoding: parquet (%s) columns, bytes/row in the file and data page encodings: %s\n", pq.codec, pq.columns)
}

// pqSchema is the Parquet schema of t: system columns required, the table's
// columns optional (they may be NULL); strings dictionary-encoded, times
// INT64 TIMESTAMP(MICROS) and integers INT64 with DELTA_BINARY_PACKED.
// leaf maps t's column index to the file's column index (a Group's fields
// sort by name).
func pqSchema(t *schema.Table) (*parquet.Schema, []int) {
	g := parquet.Group{}
	for i, c := range t.Columns {
		var node parquet.Node
		switch c.Type {
		case schema.TypeString:
			node = parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		case schema.TypeTimestamp:
			node = parquet.Encoded(parquet.Timestamp(parquet.Microsecond), &parquet.DeltaBinaryPacked)
		case schema.TypeInt:
			node = parquet.Encoded(parquet.Int(64), &parquet.DeltaBinaryPacked)
		case schema.TypeFloat:
			node = parquet.Leaf(parquet.DoubleType)
		case schema.TypeBool:
			node = parquet.Leaf(parquet.BooleanType)
		}
		if i >= schema.NumSystemColumns {
			node = parquet.Optional(node)
		}
		g[c.Name] = node
	}
	sch := parquet.NewSchema(t.Name, g)
	leaf := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		l, _ := sch.Lookup(c.Name)
		leaf[i] = l.ColumnIndex
	}
	return sch, leaf
}

// writeParquet reads t's rows in key order from a view of s and writes
// them to path, a row group per tables.BlockRows rows; its size.
func writeParquet(ctx context.Context, s *tables.Store, t *schema.Table, path string, codec compress.Codec) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sch, leaf := pqSchema(t)
	w := parquet.NewGenericWriter[any](f, sch, parquet.Compression(codec))
	v := s.View()
	defer func() { _ = v.Close() }()
	it, err := v.Scan(ctx, t, tables.TimeRange{})
	if err != nil {
		return 0, err
	}
	defer func() { _ = it.Close() }()
	cols := make([][]parquet.Value, len(t.Columns))
	for i := range cols {
		cols[i] = make([]parquet.Value, 0, tables.BlockRows)
	}
	for it.Next() {
		for i, val := range it.Row() {
			pv, err := pqValue(val, i >= schema.NumSystemColumns, leaf[i])
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", t.Columns[i].Name, err)
			}
			cols[i] = append(cols[i], pv)
		}
		if len(cols[0]) == tables.BlockRows {
			if err := writeRowGroup(w, cols, leaf); err != nil {
				return 0, err
			}
		}
	}
	if err := it.Err(); err != nil {
		return 0, err
	}
	if err := writeRowGroup(w, cols, leaf); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// pqValue is v as a Parquet value of column col (definition level 1 when
// optional and present). A string's bytes are shared, not copied: the
// row's strings are fresh for each row and live until the flush.
func pqValue(v schema.Value, optional bool, col int) (parquet.Value, error) {
	var pv parquet.Value
	switch v.Type {
	case schema.TypeInvalid:
		if !optional {
			return pv, errors.New("NULL in a required column")
		}
		return pv.Level(0, 0, col), nil
	case schema.TypeString:
		pv = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.S), len(v.S)))
	case schema.TypeFloat:
		pv = parquet.DoubleValue(v.F)
	case schema.TypeBool:
		pv = parquet.BooleanValue(v.I != 0)
	default:
		pv = parquet.Int64Value(v.I)
	}
	if optional {
		return pv.Level(0, 1, col), nil
	}
	return pv.Level(0, 0, col), nil
}

// writeRowGroup writes the buffered columns as one row group and empties
// them.
func writeRowGroup(w *parquet.GenericWriter[any], cols [][]parquet.Value, leaf []int) error {
	if len(cols[0]) == 0 {
		return nil
	}
	cw := w.ColumnWriters()
	for i, vals := range cols {
		if _, err := cw[leaf[i]].WriteRowValues(vals); err != nil {
			return err
		}
		clear(vals) // drop the strings
		cols[i] = vals[:0]
	}
	return w.Flush()
}

func openParquet(path string) (*os.File, *parquet.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := fh.Stat()
	if err == nil {
		var pf *parquet.File
		pf, err = parquet.OpenFile(fh, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true), parquet.ReadBufferSize(1<<20))
		if err == nil {
			return fh, pf, nil
		}
	}
	_ = fh.Close()
	return nil, nil, err
}

// pqAnswer is a Parquet query's answer: the aggregate (q1, q2) or the
// groups in answer order (q3).
type pqAnswer struct {
	agg    pqAgg
	groups []pqGroup
	group  bool
}

type pqAgg struct{ n, sum, min, max int64 }

type pqGroup struct {
	name   string
	n, sum int64
}

func (g pqGroup) avg() float64 { return float64(g.sum) / float64(g.n) }

func closeEnough(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// check compares a with lsql's answer: counts, min and max exactly,
// averages within 1e-9 relative, the groups in the same order.
func (a pqAnswer) check(want *lsql.Result) error {
	if !a.group {
		if len(want.Rows) != 1 {
			return fmt.Errorf("lsql %d rows", len(want.Rows))
		}
		w, g := want.Rows[0], a.agg
		if w[0].I != g.n || !closeEnough(w[1].F, float64(g.sum)/float64(g.n)) || w[2].I != g.min || w[3].I != g.max {
			return fmt.Errorf("lsql %v, Parquet count %d avg %v min %d max %d", want.Rows, g.n, float64(g.sum)/float64(g.n), g.min, g.max)
		}
		return nil
	}
	if len(want.Rows) != len(a.groups) {
		return fmt.Errorf("lsql %d groups, Parquet %d", len(want.Rows), len(a.groups))
	}
	for i, w := range want.Rows {
		g := a.groups[i]
		if w[0].S != g.name || w[1].I != g.n || !closeEnough(w[2].F, g.avg()) {
			return fmt.Errorf("row %d: lsql %v, Parquet %s %d %v", i, w, g.name, g.n, g.avg())
		}
	}
	return nil
}

// pqCols are the file's column indexes of the three queried columns.
type pqCols struct{ ts, dev, val int }

// queryParquet answers q over the file at path: open, then each row group
// skipped, read whole (its times all in range: the time column is not
// read) or filtered by time.
func queryParquet(path string, q encQuery) (pqAnswer, error) {
	fh, pf, err := openParquet(path)
	if err != nil {
		return pqAnswer{}, err
	}
	defer func() { _ = fh.Close() }()
	var c pqCols
	for name, p := range map[string]*int{"timestamp": &c.ts, "device_name": &c.dev, "value": &c.val} {
		l, ok := pf.Schema().Lookup(name)
		if !ok {
			return pqAnswer{}, fmt.Errorf("no column %s", name)
		}
		*p = l.ColumnIndex
	}
	ans := pqAnswer{group: q.group, agg: pqAgg{min: math.MaxInt64, max: math.MinInt64}}
	groups := map[string]*pqGroup{}
	for _, rg := range pf.RowGroups() {
		whole, skip, err := rowGroupInRange(rg, c.ts, q.lo, q.hi)
		if err != nil || skip {
			if err != nil {
				return ans, err
			}
			continue
		}
		if q.group {
			err = groupRowGroup(rg, c, q, whole, groups)
		} else {
			err = aggRowGroup(rg, c, q, whole, &ans.agg)
		}
		if err != nil {
			return ans, err
		}
	}
	if q.group {
		ans.groups = topGroups(groups, 10)
	}
	return ans, nil
}

// rowGroupInRange reads the time chunk's statistics: whole when every
// time is in (lo, hi), skip when none is.
func rowGroupInRange(rg parquet.RowGroup, ts int, lo, hi int64) (whole, skip bool, err error) {
	fc, ok := rg.ColumnChunks()[ts].(*parquet.FileColumnChunk)
	if !ok {
		return false, false, errors.New("not a file column chunk")
	}
	mn, mx, ok := fc.Bounds()
	if !ok || fc.NullCount() != 0 {
		// NULL times are not handled by this benchmark's readers.
		return false, false, errors.New("time column chunk without statistics or with NULLs")
	}
	lo0, hi0 := mn.Int64(), mx.Int64()
	if hi0 <= lo || lo0 >= hi {
		return false, true, nil
	}
	return lo0 > lo && hi0 < hi, false, nil
}

// chunkReader reads a column chunk's pages one at a time, releasing each
// to parquet-go's buffer pool when the next is read.
type chunkReader struct {
	pages parquet.Pages
	page  parquet.Page
}

func newChunkReader(rg parquet.RowGroup, col int) *chunkReader {
	return &chunkReader{pages: rg.ColumnChunks()[col].Pages()}
}

func (r *chunkReader) next() (parquet.Page, error) {
	if r.page != nil {
		parquet.Release(r.page)
		r.page = nil
	}
	p, err := r.pages.ReadPage()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	r.page = p
	if p.NumNulls() != 0 {
		// The workload has no NULLs; a page with some would need its
		// definition levels to line the columns up.
		return nil, errors.New("page with NULLs")
	}
	return p, nil
}

func (r *chunkReader) close() {
	if r.page != nil {
		parquet.Release(r.page)
	}
	_ = r.pages.Close()
}

// ints yields an INT64 chunk's values page by page (a dictionary-encoded
// page looked up into buf).
type ints struct {
	r   *chunkReader
	v   []int64
	buf []int64
}

func (s *ints) fill() error {
	for len(s.v) == 0 {
		p, err := s.r.next()
		if err != nil {
			return err
		}
		d := p.Data()
		dict := p.Dictionary()
		if dict == nil {
			s.v = d.Int64()
			continue
		}
		dd := dict.Page().Data()
		dv := dd.Int64()
		idx := d.Int32()
		s.buf = slices.Grow(s.buf[:0], len(idx))[:len(idx)]
		for i, k := range idx {
			s.buf[i] = dv[k]
		}
		s.v = s.buf
	}
	return nil
}

// codes yields a string chunk's dictionary indexes page by page, with the
// dictionary's strings; gen changes with the dictionary. A page that is not
// dictionary-encoded gets a dictionary of its own.
type codes struct {
	r     *chunkReader
	idx   []int32
	names []string
	dict  parquet.Dictionary
	gen   int
	own   map[string]int32
}

func (s *codes) fill() error {
	for len(s.idx) == 0 {
		p, err := s.r.next()
		if err != nil {
			return err
		}
		d := p.Dictionary()
		if d == nil {
			s.plain(p)
			continue
		}
		if d != s.dict {
			s.dict, s.gen = d, s.gen+1
			dp := d.Page().Data()
			data, offs := dp.ByteArray()
			s.names = s.names[:0]
			for i := range d.Len() {
				s.names = append(s.names, string(data[offs[i]:offs[i+1]]))
			}
		}
		data := p.Data()
		s.idx = data.Int32()
	}
	return nil
}

// plain numbers the strings of a page stored without a dictionary.
func (s *codes) plain(p parquet.Page) {
	s.dict, s.gen, s.names = nil, s.gen+1, s.names[:0]
	if s.own == nil {
		s.own = map[string]int32{}
	}
	clear(s.own)
	data := p.Data()
	bs, offs := data.ByteArray()
	idx := make([]int32, len(offs)-1)
	for i := range idx {
		str := string(bs[offs[i]:offs[i+1]])
		k, ok := s.own[str]
		if !ok {
			k = int32(len(s.names))
			s.own[str] = k
			s.names = append(s.names, str)
		}
		idx[i] = k
	}
	s.idx = idx
}

// aggRowGroup adds the count, sum, min and max of value over the row
// group's rows that match q to a.
func aggRowGroup(rg parquet.RowGroup, c pqCols, q encQuery, whole bool, a *pqAgg) error {
	vr := newChunkReader(rg, c.val)
	defer vr.close()
	vals := &ints{r: vr}
	var times *ints
	if !whole {
		tr := newChunkReader(rg, c.ts)
		defer tr.close()
		times = &ints{r: tr}
	}
	for rows := rg.NumRows(); rows > 0; {
		if err := vals.fill(); err != nil {
			return err
		}
		k := len(vals.v)
		if times != nil {
			if err := times.fill(); err != nil {
				return err
			}
			k = min(k, len(times.v))
			aggFiltered(times.v[:k], vals.v[:k], q, a)
			times.v = times.v[k:]
		} else {
			aggValues(vals.v[:k], q.vmin, a)
		}
		vals.v = vals.v[k:]
		rows -= int64(k)
	}
	return nil
}

func aggValues(vs []int64, vmin int64, a *pqAgg) {
	n, sum, mn, mx := a.n, a.sum, a.min, a.max
	if vmin == math.MinInt64 {
		for _, v := range vs {
			sum += v
			mn = min(mn, v)
			mx = max(mx, v)
		}
		n += int64(len(vs))
	} else {
		for _, v := range vs {
			if v > vmin {
				n++
				sum += v
				mn = min(mn, v)
				mx = max(mx, v)
			}
		}
	}
	a.n, a.sum, a.min, a.max = n, sum, mn, mx
}

func aggFiltered(ts, vs []int64, q encQuery, a *pqAgg) {
	n, sum, mn, mx := a.n, a.sum, a.min, a.max
	for i, t := range ts {
		if v := vs[i]; t > q.lo && t < q.hi && v > q.vmin {
			n++
			sum += v
			mn = min(mn, v)
			mx = max(mx, v)
		}
	}
	a.n, a.sum, a.min, a.max = n, sum, mn, mx
}

// groupRowGroup adds the row group's matching rows to groups by device:
// count and sum per dictionary index, folded into groups by name when the
// dictionary changes and at the end.
func groupRowGroup(rg parquet.RowGroup, c pqCols, q encQuery, whole bool, groups map[string]*pqGroup) error {
	dr, vr := newChunkReader(rg, c.dev), newChunkReader(rg, c.val)
	defer dr.close()
	defer vr.close()
	devs, vals := &codes{r: dr}, &ints{r: vr}
	var times *ints
	if !whole {
		tr := newChunkReader(rg, c.ts)
		defer tr.close()
		times = &ints{r: tr}
	}
	var cnt, sum []int64
	var names []string
	gen := 0
	for rows := rg.NumRows(); rows > 0; {
		if err := devs.fill(); err != nil {
			return err
		}
		if err := vals.fill(); err != nil {
			return err
		}
		if devs.gen != gen {
			foldGroups(groups, names, cnt, sum)
			gen, names = devs.gen, slices.Clone(devs.names)
			cnt, sum = make([]int64, len(names)), make([]int64, len(names))
		}
		k := min(len(devs.idx), len(vals.v))
		if times != nil {
			if err := times.fill(); err != nil {
				return err
			}
			k = min(k, len(times.v))
			groupFiltered(times.v[:k], devs.idx[:k], vals.v[:k], q.lo, q.hi, cnt, sum)
			times.v = times.v[k:]
		} else {
			groupAll(devs.idx[:k], vals.v[:k], cnt, sum)
		}
		devs.idx, vals.v = devs.idx[k:], vals.v[k:]
		rows -= int64(k)
	}
	foldGroups(groups, names, cnt, sum)
	return nil
}

func groupAll(idx []int32, vs []int64, cnt, sum []int64) {
	for i, k := range idx {
		cnt[k]++
		sum[k] += vs[i]
	}
}

func groupFiltered(ts []int64, idx []int32, vs []int64, lo, hi int64, cnt, sum []int64) {
	for i, t := range ts {
		if t > lo && t < hi {
			k := idx[i]
			cnt[k]++
			sum[k] += vs[i]
		}
	}
}

// foldGroups adds the counts and sums by dictionary index to groups.
func foldGroups(groups map[string]*pqGroup, names []string, cnt, sum []int64) {
	for k, c := range cnt {
		if c == 0 {
			continue
		}
		g := groups[names[k]]
		if g == nil {
			g = &pqGroup{name: names[k]}
			groups[names[k]] = g
		}
		g.n += c
		g.sum += sum[k]
	}
}

// topGroups orders the groups as `order by 3 desc, 1 limit n` does.
func topGroups(groups map[string]*pqGroup, n int) []pqGroup {
	out := make([]pqGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b pqGroup) int {
		if c := cmp.Compare(b.avg(), a.avg()); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	return out[:min(n, len(out))]
}
