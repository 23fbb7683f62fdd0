// grpc.health.v1: the standard health checking service.
export * from "./gen/grpc/health/v1/health_pb.js";
