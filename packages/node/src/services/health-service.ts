// grpc.health.v1.Health: SERVING until shutdown begins, then NOT_SERVING, so
// that a load balancer stops sending new work while the node drains.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { health } from "@parley/proto";
import { eitherSignal } from "../streams/either-signal.js";

const SERVICES = new Set(["", "xmtp.mls.api.v1.MlsApi", "xmtp.identity.api.v1.IdentityApi"]);

export function createHealthService(shutdown: AbortSignal): ServiceImpl<typeof health.Health> {
  const status = () =>
    shutdown.aborted ? health.HealthCheckResponse_ServingStatus.NOT_SERVING : health.HealthCheckResponse_ServingStatus.SERVING;
  return {
    check(request) {
      if (!SERVICES.has(request.service)) throw new ConnectError(`unknown service ${request.service}`, Code.NotFound);
      return create(health.HealthCheckResponseSchema, { status: status() });
    },
    async *watch(request, context) {
      if (!SERVICES.has(request.service)) {
        yield create(health.HealthCheckResponseSchema, {
          status: health.HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
        });
        return;
      }
      yield create(health.HealthCheckResponseSchema, { status: status() });
      if (shutdown.aborted) return;
      await new Promise<void>((resolve) => {
        const signal = eitherSignal(shutdown, context.signal);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      if (!context.signal.aborted) yield create(health.HealthCheckResponseSchema, { status: status() });
    },
  };
}
