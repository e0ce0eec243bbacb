package fastrpc

// Method numbers of the calls gorados sends over fastrpc; the messages are
// those of the gRPC methods of the same name.
const (
	// MethodExecute is ObjectService.Execute (pb.OpRequest -> pb.OpReply),
	// on an OSD's public address.
	MethodExecute uint16 = 1
	// MethodRepOp is OSDCluster.RepOp (pb.RepOpRequest -> pb.RepOpReply),
	// on an OSD's cluster address.
	MethodRepOp uint16 = 2
)
