"""Scale-out tests: the delivery runtime on a three-node NATS JetStream cluster."""
