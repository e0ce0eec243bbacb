package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unsafe"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/proto/pb"
)

func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// messages covers small messages, large bytes at the top and nested in
// oneofs and lists, several large fields, and large fields next to
// repeated scalars and small siblings.
func messages() map[string]proto.Message {
	big, big2 := payload(1, 4<<20), payload(2, LargeField)
	loc := &pb.ObjectLocator{Name: []byte("obj"), Namespace: []byte("ns")}
	return map[string]proto.Message{
		"small": &pb.OpRequest{Fsid: "f", Epoch: 7, Object: loc, Ops: []*pb.SubOp{
			{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: []byte("hello")}}}}},
		"write_full 4 MiB": &pb.OpRequest{Fsid: "f", Epoch: 7, Pool: 3, PgSeed: 9, Object: loc,
			Reqid: &pb.ReqID{ClientId: 1, Tid: 2}, Ops: []*pb.SubOp{
				{Op: &pb.SubOp_SetXattr{SetXattr: &pb.SetXattrOp{Name: []byte("a"), Value: []byte("b")}}},
				{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: big}}},
				{Op: &pb.SubOp_Write{Write: &pb.WriteOp{Offset: 5, Data: big2}}}}},
		"read reply": &pb.OpReply{OsdEpoch: 4, Version: &pb.Eversion{Epoch: 1, Version: 2}, Results: []*pb.SubOpResult{
			{Data: big, Keys: [][]byte{[]byte("k1"), []byte("k2")}}, {Data: []byte("tiny")},
			{Xattrs: []*pb.Xattr{{Name: []byte("x"), Value: big2}}}}},
		"repop": &pb.RepOpRequest{Fsid: "f", FromOsd: 2, Epoch: 9, LogEntry: []byte("entry"),
			Txn: &pb.Transaction{Object: loc, Ops: []*pb.TxOp{
				{Op: &pb.TxOp_Touch{Touch: &pb.TouchTx{}}, MtimeUnixNano: 5},
				{Op: &pb.TxOp_Write{Write: &pb.WriteOp{Data: big}}, MtimeUnixNano: 5}}}},
		"just below the threshold": &pb.OpRequest{Ops: []*pb.SubOp{
			{Op: &pb.SubOp_Append{Append: &pb.AppendOp{Data: big2[:LargeField-1]}}}}},
	}
}

// TestEncodeDecodes: every encoding decodes, with the stock protobuf
// decoder, to a message equal to the original, and has the size protobuf
// computes.
func TestEncodeDecodes(t *testing.T) {
	for name, m := range messages() {
		e, err := Encode(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.Size() != proto.Size(m) {
			t.Fatalf("%s: size %d, protobuf says %d", name, e.Size(), proto.Size(m))
		}
		got := m.ProtoReflect().Type().New().Interface()
		if err := proto.Unmarshal(e.Bytes(), got); err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if !proto.Equal(got, m) {
			t.Fatalf("%s: decoded message differs from the original", name)
		}
	}
}

// TestLargeFieldsAreNotCopied: the segments of a large field are the
// caller's memory.
func TestLargeFieldsAreNotCopied(t *testing.T) {
	data := payload(3, 1<<20)
	m := &pb.OpRequest{Ops: []*pb.SubOp{{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: data}}}}}
	bs, err := Codec{}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	aliased := false
	for _, b := range bs {
		if d := b.ReadOnlyData(); len(d) == len(data) && unsafe.SliceData(d) == unsafe.SliceData(data) {
			aliased = true
		}
	}
	if !aliased {
		t.Fatal("the 1 MiB data field was copied into the encoding")
	}
}

// TestMarshalUnmarshal: the codec's own round trip, through a buffer
// slice cut into frames as gRPC delivers it.
func TestMarshalUnmarshal(t *testing.T) {
	var c Codec
	for name, m := range messages() {
		bs, err := c.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		raw := bs.Materialize()
		var frames mem.BufferSlice
		for len(raw) > 0 {
			n := min(len(raw), 16<<10)
			frames = append(frames, mem.SliceBuffer(raw[:n]))
			raw = raw[n:]
		}
		got := m.ProtoReflect().Type().New().Interface()
		if err := c.Unmarshal(frames, got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !proto.Equal(got, m) {
			t.Fatalf("%s: round trip differs", name)
		}
	}
	if _, err := c.Marshal("not a message"); err == nil {
		t.Fatal("Marshal of a string succeeded")
	}
	if err := c.Unmarshal(nil, new(int)); err == nil {
		t.Fatal("Unmarshal into an int succeeded")
	}
}

// TestEncodedIsReusable: a pre-encoded message marshals to the same bytes
// for every call.
func TestEncodedIsReusable(t *testing.T) {
	m := messages()["repop"]
	e, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := proto.Marshal(m)
	for i := 0; i < 2; i++ {
		bs, err := Codec{}.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var got pb.RepOpRequest
		if err := proto.Unmarshal(bs.Materialize(), &got); err != nil || !proto.Equal(&got, m) || bs.Len() != len(want) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// FuzzEncode encodes arbitrary decodable OpReply and OpRequest messages
// with one large field added and checks the round trip.
func FuzzEncode(f *testing.F) {
	for _, m := range messages() {
		b, _ := proto.Marshal(m)
		if len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range []proto.Message{&pb.OpReply{}, &pb.OpRequest{}, &pb.RepOpRequest{}} {
			if proto.Unmarshal(b, m) != nil {
				continue
			}
			if r, ok := m.(*pb.OpReply); ok {
				r.Results = append(r.Results, &pb.SubOpResult{Data: bytes.Repeat([]byte{7}, LargeField)})
			}
			e, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			got := m.ProtoReflect().Type().New().Interface()
			if err := proto.Unmarshal(e.Bytes(), got); err != nil || !proto.Equal(got, m) {
				t.Fatalf("round trip of %T: %v", m, err)
			}
		}
	})
}

// TestUnmarshalAliasesLargeFields: large bytes fields are decoded into a
// buffer of the message's own, the first one 4096-aligned, and equal the
// originals; small ones are ordinary.
func TestUnmarshalAliasesLargeFields(t *testing.T) {
	m := messages()["write_full 4 MiB"].(*pb.OpRequest)
	bs, err := Codec{}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	frames := mem.BufferSlice{mem.SliceBuffer(bs.Materialize())}
	var got pb.OpRequest
	if err := (Codec{}).Unmarshal(frames, &got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&got, m) {
		t.Fatal("decoded message differs")
	}
	data := got.GetOps()[1].GetWriteFull().GetData()
	if addr(data)%directAlign != 0 {
		t.Fatalf("first large field at %#x, not %d-aligned", addr(data), directAlign)
	}
	if unsafe.SliceData(data) == unsafe.SliceData(m.GetOps()[1].GetWriteFull().GetData()) {
		t.Fatal("decoded data is the sender's memory")
	}
}

// FuzzUnmarshal decodes arbitrary bytes with large fields made small, and
// checks the result against protobuf's own decoding (which must succeed
// and fail on the same inputs, and agree on the fields).
func FuzzUnmarshal(f *testing.F) {
	defer func(old int) { largeField = old }(largeField)
	for _, m := range messages() {
		b, _ := proto.Marshal(m)
		if len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Add([]byte{0x3a, 0x0a, 0x12, 0x08, 0x0a, 0x06, 'h', 'e', 'l', 'l', 'o', '!'})
	f.Fuzz(func(t *testing.T, b []byte) {
		largeField = 4
		defer func() { largeField = LargeField }()
		for _, newMsg := range []func() proto.Message{
			func() proto.Message { return &pb.OpRequest{} }, func() proto.Message { return &pb.OpReply{} },
			func() proto.Message { return &pb.RepOpRequest{} },
		} {
			want, got := newMsg(), newMsg()
			werr := proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, want)
			gerr := (Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(append([]byte{}, b...))}, got)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%T: protobuf says %v, the codec %v", want, werr, gerr)
			}
			if werr == nil && !proto.Equal(want, got) {
				t.Fatalf("%T: decodings differ:\nprotobuf %v\ncodec    %v", want, want, got)
			}
		}
	})
}
