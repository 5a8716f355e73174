package dev.bolero.server.http;

import dev.bolero.api.ApiException;
import dev.bolero.api.ApiJson;
import dev.bolero.api.http.ClientLimits;
import dev.bolero.api.http.OpenApi;
import dev.bolero.api.http.Operation;
import dev.bolero.api.http.Router;
import dev.bolero.api.http.Telemetry;
import dev.bolero.api.wire.AuditEntry;
import dev.bolero.api.wire.CertificateUpload;
import dev.bolero.api.wire.HostnameSpec;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.SecretValue;
import dev.bolero.api.wire.TokenRole;
import dev.bolero.api.wire.TokenSpec;
import dev.bolero.api.wire.VolumeExtend;
import dev.bolero.api.wire.VolumeMoveReport;
import dev.bolero.api.wire.VolumeMoveSpec;
import dev.bolero.api.wire.VolumeSnapshotSpec;
import dev.bolero.api.wire.VolumeSpec;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.ServerConfig;
import dev.bolero.server.audit.AuditLog;
import dev.bolero.server.store.AuditStore;
import dev.bolero.server.store.Page;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ForkMachineRequest;
import dev.bolero.api.ExecStream;
import dev.bolero.api.QueryParams;
import dev.bolero.server.cluster.Cluster;
import dev.bolero.server.cluster.Streams;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.UpdateClusterMachine;
import dev.bolero.api.wire.DeploySpec;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import dev.bolero.core.ValidationException;
import io.javalin.Javalin;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.component.LifeCycle;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson3;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsConnectHandler;
import java.nio.ByteBuffer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's {@code /v1} API on Javalin (a virtual thread per request, so long polls and waits hold no
 * platform thread). Every route but {@code /v1/openapi.json} needs {@code Authorization: Bearer TOKEN}; a missing or
 * unknown token is {@code 401 unauthenticated}. A token that may not see an object gets {@code 404}, never
 * {@code 403}, with the same message as for an object that does not exist, so names do not leak across namespaces.
 * The web console ({@link Console}), a client of this API, is served beside it at {@code /ui}.
 */
public final class ServerApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerApi.class);
    private static final int MAX_WAIT_S = 3600;
    private static final int MAX_POLL_S = 300;
    /** How much of an agent's stream answer that no one waits for is read before it is refused ({@code answer}). */
    private static final int LATE_ANSWER_DRAIN_BYTES = 64 * 1024;
    private static final Pattern CURSOR = Pattern.compile("[A-Za-z0-9_.-]{1,253}");
    /** The header of an agent's stream answer carrying the node API's HTTP status. */
    private static final String STATUS_HEADER = "Bolero-Status";
    private static final int ACCEPT_QUEUE = 4096;
    /** The request attribute holding the id of the token that authenticated it. */
    private static final String TOKEN_ID = "bolero.token";
    /** Set on a call whose audit entry its handler had committed with its change ({@link AuditLog#appendIn}). */
    private static final String AUDITED = "bolero.audited";
    /** The request attribute holding its {@link Principal}, once found. */
    private static final String PRINCIPAL = "bolero.principal";
    private static final List<String> LOG_PARAMS = List.of("follow", "tail", "since", "timestamps", "source");

    private final Cluster cluster;
    private final Secrets secrets;
    private final AuditLog audit;
    private final RateLimits rates;
    private final String replica;
    private final Javalin app;
    private final ExecSockets sockets;
    private final byte[] openapi;
    /** Set by {@link #close}: requests still running (long polls) then fail because the store is going away. */
    private volatile boolean closing;

    /**
     * An API over {@code cluster} and {@code secrets}, answering as replica {@code replica}, its mutating calls
     * recorded in {@code audit} and its requests measured by {@code telemetry}, each namespace token's requests
     * limited to {@code tenantRate}, its clients held to {@code limits}; {@link #start} serves it.
     */
    public ServerApi(Cluster cluster, Secrets secrets, AuditLog audit, Telemetry telemetry, String replica,
                     ServerConfig.RateLimit tenantRate, ClientLimits limits) {
        this.cluster = cluster;
        this.rates = new RateLimits(tenantRate);
        this.secrets = secrets;
        this.audit = audit;
        this.replica = replica;
        this.sockets = new ExecSockets(cluster.streams());
        this.openapi = ApiJson.mapper().writeValueAsBytes(OpenApi.document(ServerRoutes.INFO, ServerRoutes.ALL));
        this.app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.startup.showJavalinBanner = false;
            // A cluster's nodes reconnect together (after a restart or a network cut): queue their connections
            // instead of dropping the SYNs past the JDK's default backlog of 50.
            config.jetty.modifyServer(server -> server.addEventListener(new LifeCycle.Listener() {
                @Override
                public void lifeCycleStarting(LifeCycle event) {
                    for (var connector : server.getConnectors()) {
                        if (connector instanceof ServerConnector c) c.setAcceptQueueSize(ACCEPT_QUEUE);
                    }
                }
            }));
            // An agent's stream answer (a followed log) is a body that may be quiet for hours: it alone may be slow.
            config.jetty.modifyServer(server -> limits.applyTo(server, request ->
                    ServerRoutes.STREAM_ANSWER.method().name().equals(request.getMethod())
                            && ServerRoutes.STREAM_ANSWER.matches(Request.getPathInContext(request))));
            config.jsonMapper(new JavalinJackson3(ApiJson.mapper(), true));
            config.jetty.modifyWebSocketServletFactory(ws -> {
                ws.setMaxTextMessageSize(ExecStream.MAX_MESSAGE);
                ws.setMaxBinaryMessageSize(ExecStream.MAX_MESSAGE);
            });
            var r = new Router(config, ServerRoutes.ALL);
            var javalin = config.routes; // WebSocket routes and this API's own exception types
            r.handle(ServerRoutes.OPENAPI, ctx -> ctx.contentType("application/json").result(openapi));
            r.handle(ServerRoutes.STATUS, this::status);

            r.handle(ServerRoutes.CREATE_NAMESPACE, ctx -> {
                admin(ctx);
                ctx.status(201).json(cluster.plane().createNamespace(body(ctx, NamespaceSpec.class, "create namespace")));
            });
            r.handle(ServerRoutes.LIST_NAMESPACES, ctx -> {
                Principal principal = principal(ctx);
                Page page = page(ctx);
                ctx.json(switch (principal) {
                    case Principal.Admin a -> cluster.plane().namespaces(page);
                    case Principal.Tenant t -> cluster.plane().namespace(t.namespace())
                            .filter(n -> page.after().map(after -> n.name().compareTo(after) > 0).orElse(true))
                            .stream().toList();
                    default -> throw ApiException.permissionDenied("list namespaces: needs an admin or a namespace "
                            + "token");
                });
            });
            r.handle(ServerRoutes.GET_NAMESPACE,
                    ctx -> ctx.json(cluster.plane().namespace(namespace(ctx)).orElseThrow()));
            r.handle(ServerRoutes.CREATE_TOKEN, ctx -> {
                String ns = namespaceAdmin(ctx);
                TokenSpec spec = Router.bodyOr(ctx, TokenSpec.class, "create token in " + ns,
                        new TokenSpec(null, null, null));
                ctx.status(201).json(cluster.plane().createToken(ns, spec));
            });
            r.handle(ServerRoutes.LIST_TOKENS, ctx -> ctx.json(cluster.plane().tokens(namespaceAdmin(ctx), page(ctx))));
            r.handle(ServerRoutes.REVOKE_TOKEN, ctx -> {
                cluster.plane().revokeToken(namespaceAdmin(ctx), ctx.pathParam("token"));
                ctx.status(204);
            });

            r.handle(ServerRoutes.GET_QUOTA, ctx -> ctx.json(cluster.plane().quota(namespace(ctx))));
            r.handle(ServerRoutes.SET_QUOTA, ctx -> {
                admin(ctx);
                String ns = ctx.pathParam("ns");
                ctx.json(cluster.plane().setQuota(ns, body(ctx, Quota.class, "set quota of namespace " + ns)));
            });

            r.handle(ServerRoutes.CREATE_SECRET, ctx -> ctx.status(201).json(secrets.create(namespace(ctx),
                    body(ctx, SecretValue.class, "create secret"))));
            r.handle(ServerRoutes.LIST_SECRETS, ctx -> ctx.json(secrets.list(namespace(ctx), page(ctx))));
            r.handle(ServerRoutes.GET_SECRET, ctx -> ctx.json(secrets.get(namespace(ctx), ctx.pathParam("secret"))));
            r.handle(ServerRoutes.PUT_SECRET, ctx -> ctx.json(secrets.put(namespace(ctx), ctx.pathParam("secret"),
                    body(ctx, SecretValue.class, "set secret " + ctx.pathParam("secret")))));
            r.handle(ServerRoutes.ROLL_SECRET, ctx -> ctx.json(cluster.deployments().rollSecret(namespace(ctx),
                    ctx.pathParam("secret"))));
            r.handle(ServerRoutes.DELETE_SECRET, ctx -> {
                secrets.delete(namespace(ctx), ctx.pathParam("secret"));
                ctx.status(204);
            });
            r.handle(ServerRoutes.CREATE_VOLUME, ctx -> ctx.status(201).json(cluster.volumes().create(namespace(ctx),
                    body(ctx, VolumeSpec.class, "create volume"))));
            r.handle(ServerRoutes.LIST_VOLUMES, ctx -> ctx.json(cluster.volumes().list(namespace(ctx), page(ctx))));
            r.handle(ServerRoutes.GET_VOLUME, ctx -> ctx.json(cluster.volumes().get(namespace(ctx),
                    ctx.pathParam("volume"))));
            r.handle(ServerRoutes.EXTEND_VOLUME, ctx -> ctx.json(cluster.volumes().extend(namespace(ctx),
                    ctx.pathParam("volume"), body(ctx, VolumeExtend.class, "extend volume " + ctx.pathParam("volume")))));
            r.handle(ServerRoutes.SNAPSHOT_VOLUME, ctx -> ctx.status(201).json(cluster.volumes().snapshot(
                    namespace(ctx), ctx.pathParam("volume"), Router.bodyOr(ctx, VolumeSnapshotSpec.class,
                            "snapshot volume " + ctx.pathParam("volume"), new VolumeSnapshotSpec(null)))));
            r.handle(ServerRoutes.MOVE_VOLUME, ctx -> ctx.status(202).json(cluster.volumeMoves().move(namespace(ctx),
                    ctx.pathParam("volume"), Router.bodyOr(ctx, VolumeMoveSpec.class,
                            "move volume " + ctx.pathParam("volume"), new VolumeMoveSpec(null)))));
            r.handle(ServerRoutes.LIST_VOLUME_MOVES, ctx -> ctx.json(cluster.volumeMoves().moves(namespace(ctx),
                    ctx.pathParam("volume"), page(ctx))));
            r.handle(ServerRoutes.LIST_VOLUME_SNAPSHOTS, ctx -> ctx.json(cluster.volumes().snapshots(namespace(ctx),
                    ctx.pathParam("volume"), page(ctx))));
            r.handle(ServerRoutes.DELETE_VOLUME_SNAPSHOT, ctx -> {
                cluster.volumes().deleteSnapshot(namespace(ctx), ctx.pathParam("volume"), ctx.pathParam("snapshot"));
                ctx.status(204);
            });
            r.handle(ServerRoutes.DELETE_VOLUME, ctx -> {
                cluster.volumes().delete(namespace(ctx), ctx.pathParam("volume"));
                ctx.status(204);
            });
            telemetry.register(config, r);

            r.handle(ServerRoutes.CREATE_FLEET, ctx -> ctx.status(201).json(cluster.plane().createFleet(namespace(ctx),
                    body(ctx, FleetSpec.class, "create fleet"))));
            r.handle(ServerRoutes.LIST_FLEETS, ctx -> ctx.json(cluster.plane().fleets(namespace(ctx), page(ctx))));
            r.handle(ServerRoutes.GET_FLEET,
                    ctx -> ctx.json(cluster.plane().fleet(namespace(ctx), ctx.pathParam("fleet"))));
            r.handle(ServerRoutes.UPDATE_FLEET, ctx -> ctx.json(cluster.plane().updateFleet(namespace(ctx),
                    ctx.pathParam("fleet"), body(ctx, FleetSpec.class, "update fleet " + ctx.pathParam("fleet")))));
            r.handle(ServerRoutes.DELETE_FLEET, ctx -> {
                cluster.plane().deleteFleet(namespace(ctx), ctx.pathParam("fleet"));
                ctx.status(204);
            });

            r.handle(ServerRoutes.ATTACH_HOSTNAME, ctx -> ctx.status(201).json(cluster.hostnames().attach(
                    namespace(ctx), ctx.pathParam("fleet"), body(ctx, HostnameSpec.class, "attach hostname"))));
            r.handle(ServerRoutes.LIST_HOSTNAMES, ctx -> ctx.json(cluster.hostnames().list(namespace(ctx),
                    ctx.pathParam("fleet"), page(ctx))));
            r.handle(ServerRoutes.GET_HOSTNAME, ctx -> ctx.json(cluster.hostnames().get(namespace(ctx),
                    ctx.pathParam("fleet"), ctx.pathParam("hostname"))));
            r.handle(ServerRoutes.UPLOAD_CERTIFICATE, ctx -> ctx.json(cluster.hostnames().upload(namespace(ctx),
                    ctx.pathParam("fleet"), ctx.pathParam("hostname"), body(ctx, CertificateUpload.class,
                            "upload the certificate of hostname " + ctx.pathParam("hostname")))));
            r.handle(ServerRoutes.DETACH_HOSTNAME, ctx -> {
                cluster.hostnames().detach(namespace(ctx), ctx.pathParam("fleet"), ctx.pathParam("hostname"));
                ctx.status(204);
            });

            r.handle(ServerRoutes.LIST_RELEASES, ctx -> ctx.json(cluster.deployments().releases(namespace(ctx),
                    ctx.pathParam("fleet"), page(ctx))));
            r.handle(ServerRoutes.DEPLOY, ctx -> ctx.status(201).json(cluster.deployments().deploy(namespace(ctx),
                    ctx.pathParam("fleet"), body(ctx, DeploySpec.class, "deploy fleet " + ctx.pathParam("fleet")))));
            r.handle(ServerRoutes.LIST_DEPLOYMENTS, ctx -> ctx.json(cluster.deployments().deployments(namespace(ctx),
                    ctx.pathParam("fleet"), page(ctx))));
            r.handle(ServerRoutes.GET_DEPLOYMENT, ctx -> ctx.json(cluster.deployments().deployment(namespace(ctx),
                    ctx.pathParam("fleet"), ctx.pathParam("id"))));

            r.handle(ServerRoutes.CREATE_MACHINE, ctx -> {
                // The created machine's entry goes in with its row; a refused create's is recorded after the answer.
                String ns = namespace(ctx);
                var machine = cluster.plane().createMachine(ns, ctx.pathParam("fleet"),
                        body(ctx, CreateClusterMachine.class, "create machine"),
                        Optional.of(call(ctx, ServerRoutes.CREATE_MACHINE, ns, 201)));
                ctx.attribute(AUDITED, true);
                ctx.status(201).json(machine);
            });
            r.handle(ServerRoutes.LIST_FLEET_MACHINES, ctx -> {
                String ns = namespace(ctx);
                cluster.plane().fleet(ns, ctx.pathParam("fleet"));
                ctx.json(cluster.plane().machines(ns, Optional.of(ctx.pathParam("fleet")), states(ctx, false),
                        metadata(ctx), page(ctx)));
            });
            r.handle(ServerRoutes.LIST_MACHINES, ctx -> ctx.json(cluster.plane().machines(namespace(ctx),
                    Optional.ofNullable(ctx.queryParam("fleet")), states(ctx, false), metadata(ctx), page(ctx))));
            r.handle(ServerRoutes.GET_MACHINE,
                    ctx -> ctx.json(cluster.plane().machine(namespace(ctx), ctx.pathParam("id"))));
            r.handle(ServerRoutes.UPDATE_MACHINE, ctx -> ctx.json(cluster.plane().updateMachine(namespace(ctx),
                    ctx.pathParam("id"), body(ctx, UpdateClusterMachine.class, "update machine " + ctx.pathParam("id")))));
            r.handle(ServerRoutes.START_MACHINE, ctx ->
                    ctx.json(cluster.plane().start(namespace(ctx), ctx.pathParam("id"))));
            r.handle(ServerRoutes.SUSPEND_MACHINE, ctx ->
                    ctx.json(cluster.plane().suspend(namespace(ctx), ctx.pathParam("id"))));
            r.handle(ServerRoutes.FORK_MACHINE, ctx -> {
                ForkMachineRequest fork = body(ctx, ForkMachineRequest.class, "fork machine " + ctx.pathParam("id"));
                ctx.status(201).json(cluster.plane().fork(namespace(ctx), ctx.pathParam("id"), fork.count()));
            });
            r.handle(ServerRoutes.STOP_MACHINE, ctx -> {
                String ns = namespace(ctx);
                MachineSpec.Stop stop = Router.bodyOr(ctx, MachineSpec.Stop.class,
                        "stop machine " + ctx.pathParam("id"), null);
                if (stop != null) stop.check(FieldPath.root());
                ctx.json(cluster.plane().stop(ns, ctx.pathParam("id"), stop));
            });
            r.handle(ServerRoutes.DELETE_MACHINE, ctx -> {
                cluster.plane().delete(namespace(ctx), ctx.pathParam("id"));
                ctx.status(204);
            });
            r.handle(ServerRoutes.WAIT_MACHINE, ctx -> {
                String ns = namespace(ctx);
                Set<MachineState> states = states(ctx, true);
                int timeout = intParam(ctx, "timeout_s", 60, 0, MAX_WAIT_S);
                ctx.json(cluster.plane().await(ns, ctx.pathParam("id"), states, Duration.ofSeconds(timeout)));
            });

            r.handle(ServerRoutes.MACHINE_LOGS, ctx -> relay(ctx, "logs", logParams(ctx), null));
            r.handle(ServerRoutes.MACHINE_EVENTS, ctx -> relay(ctx, "events", Map.of(), null));
            r.handle(ServerRoutes.MACHINE_STATS, ctx -> relay(ctx, "stats", Map.of("window_s",
                    Integer.toString(intParam(ctx, "window_s", 0, 0, 3600))), null));
            r.handle(ServerRoutes.EXEC, ctx -> {
                body(ctx, ExecRequest.class, "exec in machine " + ctx.pathParam("id"));
                relay(ctx, "exec", Map.of(), Router.bodyText(ctx));
            });

            r.handle(ServerRoutes.LIST_AUDIT, ctx -> ctx.json(auditEntries(ctx, namespace(ctx))));
            r.handle(ServerRoutes.LIST_CLUSTER_AUDIT, ctx -> {
                admin(ctx);
                ctx.json(auditEntries(ctx, null));
            });
            javalin.afterMatched(this::audit);

            r.handle(ServerRoutes.LIST_NODES, ctx -> {
                admin(ctx);
                ctx.json(cluster.nodes().nodes(page(ctx)));
            });
            r.handle(ServerRoutes.GET_NODE, ctx -> {
                admin(ctx);
                ctx.json(cluster.nodes().node(ctx.pathParam("id")));
            });
            for (var verb : Map.of(ServerRoutes.CORDON, NodeState.CORDONED, ServerRoutes.UNCORDON, NodeState.READY,
                    ServerRoutes.DRAIN, NodeState.DRAINING).entrySet()) {
                r.handle(verb.getKey(), ctx -> {
                    admin(ctx);
                    ctx.json(cluster.nodes().setAdminState(ctx.pathParam("id"), verb.getValue()));
                });
            }

            r.handle(ServerRoutes.REMOVE_NODE, ctx -> {
                admin(ctx);
                cluster.nodes().remove(ctx.pathParam("id"));
                ctx.status(204);
            });

            r.handle(ServerRoutes.JOIN, ctx -> {
                if (!(principal(ctx) instanceof Principal.Joiner)) throw noRoute(ctx);
                ctx.status(201).json(cluster.nodes().join(body(ctx, JoinRequest.class, "join")));
            });
            r.handle(ServerRoutes.ASSIGNMENTS, ctx -> {
                String node = node(ctx);
                long index = longParam(ctx, "index");
                int wait = intParam(ctx, "wait_s", 30, 0, MAX_POLL_S);
                ctx.json(cluster.nodes().assignments(node, index, Duration.ofSeconds(wait)));
            });
            r.handle(ServerRoutes.REPORT_AND_POLL, ctx -> {
                String node = node(ctx);
                long index = longParam(ctx, "index");
                int wait = intParam(ctx, "wait_s", 30, 0, MAX_POLL_S);
                Heartbeat report = body(ctx, Heartbeat.class, "report and poll assignments of node " + node);
                var polled = cluster.nodes().reportAndPoll(node, report, index, Duration.ofSeconds(wait));
                if (polled.assignments().isPresent()) {
                    ctx.json(polled.assignments().get());
                } else {
                    polled.heldMillis().ifPresent(ms -> ctx.header(Heartbeat.HELD_MS_HEADER, Long.toString(ms)));
                    ctx.status(204);
                }
            });
            r.handle(ServerRoutes.HEARTBEAT, ctx -> {
                String node = node(ctx);
                ctx.json(cluster.nodes().heartbeat(node, body(ctx, Heartbeat.class, "heartbeat of node " + node)));
            });

            r.handle(ServerRoutes.STREAM_ANSWER, this::answer);
            r.handle(ServerRoutes.VOLUME_MOVE_BLOCKS, ctx -> {
                String node = node(ctx);
                String move = ctx.pathParam("move");
                int pass = intParam(ctx, "pass", 1, 1, Integer.MAX_VALUE);
                try (var stream = cluster.volumeMoves().blocks(node, move, pass)) {
                    relay(ctx, stream, "pass " + pass + " of volume move " + move);
                }
            });
            r.handle(ServerRoutes.VOLUME_MOVE_REPORT, ctx -> {
                String node = node(ctx);
                var report = body(ctx, VolumeMoveReport.class, "report volume move " + ctx.pathParam("move"));
                cluster.volumeMoves().report(node, ctx.pathParam("move"), report);
                ctx.json(report);
            });
            r.handle(ServerRoutes.SNAPSHOT_COPY_BLOCKS, ctx -> {
                String node = node(ctx);
                String copy = ctx.pathParam("copy");
                try (var stream = cluster.volumes().copyBlocks(node, copy)) {
                    relay(ctx, stream, "snapshot copy " + copy);
                }
            });
            r.handle(ServerRoutes.SNAPSHOT_COPY_REPORT, ctx -> {
                String node = node(ctx);
                var report = body(ctx, VolumeMoveReport.class, "report snapshot copy " + ctx.pathParam("copy"));
                cluster.volumes().reportCopy(node, ctx.pathParam("copy"), report);
                ctx.json(report);
            });
            r.handle(ServerRoutes.GATEWAY_ROUTES, ctx -> {
                admin(ctx);
                routes(ctx, Optional.empty());
            });
            r.handle(ServerRoutes.GATEWAY_CERTIFICATE, ctx -> {
                admin(ctx);
                ctx.json(cluster.hostnames().gatewayCertificate(ctx.pathParam("hostname")));
            });
            r.handle(ServerRoutes.JOIN_GATEWAY_MESH, ctx -> {
                admin(ctx);
                ctx.json(cluster.mesh().register(body(ctx, NodeLink.class, "register a gateway in the mesh")));
            });
            r.handle(ServerRoutes.LEAVE_GATEWAY_MESH, ctx -> {
                admin(ctx);
                cluster.mesh().leave(ctx.pathParam("id"));
                ctx.status(204);
            });
            r.handle(ServerRoutes.NAMESPACE_ROUTES, ctx -> routes(ctx, Optional.of(namespace(ctx))));
            r.complete();
            Console.register(javalin);

            // Interactive exec: the client's WebSocket bridged to one its machine's agent opens.
            javalin.wsBeforeUpgrade(ServerRoutes.NS + "/machines/{id}/exec", ctx -> {
                cluster.plane().machine(namespace(ctx), ctx.pathParam("id"));
                record(ctx, ServerRoutes.EXEC, ctx.pathParam("ns"), 101); // the session is about to open
            });
            javalin.ws(ServerRoutes.NS + "/machines/{id}/exec", socket -> relaySocket(socket,
                    ctx -> sockets.clientConnected(ctx, ctx.pathParam("ns"), ctx.pathParam("id"), false)));
            // Attach: the same, to the machine's workload itself (bolero run -it).
            javalin.wsBeforeUpgrade(ServerRoutes.NS + "/machines/{id}/attach", ctx -> {
                cluster.plane().machine(namespace(ctx), ctx.pathParam("id"));
                record(ctx, ServerRoutes.ATTACH, ctx.pathParam("ns"), 101);
            });
            javalin.ws(ServerRoutes.NS + "/machines/{id}/attach", socket -> relaySocket(socket,
                    ctx -> sockets.clientConnected(ctx, ctx.pathParam("ns"), ctx.pathParam("id"), true)));
            javalin.wsBeforeUpgrade("/v1/nodes/{id}/streams/{stream}", this::node);
            javalin.ws("/v1/nodes/{id}/streams/{stream}", socket -> relaySocket(socket,
                    ctx -> sockets.agentConnected(ctx, ctx.pathParam("id"), ctx.pathParam("stream"))));

            javalin.exception(RateLimited.class, (e, ctx) -> {
                ctx.header("Retry-After", Long.toString(e.retryAfterS));
                Router.error(ctx, new ApiException(ErrorCode.RATE_LIMITED, e.getMessage()));
            });
            javalin.exception(Unauthenticated.class, (e, ctx) -> {
                ctx.header("WWW-Authenticate", "Bearer");
                Router.error(ctx, new ApiException(ErrorCode.UNAUTHENTICATED, e.getMessage()));
            });
            javalin.exception(Exception.class, (e, ctx) -> {
                if (closing) {
                    log.debug("{} {} ended by the shutdown: {}", ctx.method(), ctx.path(), e.toString());
                    Router.error(ctx, ApiException.unavailable("replica " + replica + " is shutting down"));
                    return;
                }
                log.error("{} {} failed", ctx.method(), ctx.path(), e);
                Router.error(ctx, new ApiException(ErrorCode.INTERNAL, ctx.method() + " " + ctx.path() + ": "
                        + e.getMessage()));
            });
        });
    }

    /** Starts serving on {@code host:port} (port 0: any free port). */
    public ServerApi start(String host, int port) {
        app.start(host, port);
        return this;
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        closing = true;
        app.stop();
    }

    private void status(Context ctx) {
        admin(ctx);
        ctx.json(new ServerStatus(replica, cluster.leading(), cluster.index()));
    }

    /**
     * Records a published mutating call (not a read, not the node protocol) made with a known token, after its answer
     * is decided: a call without a valid token changed nothing and is not attributed to anyone. An interactive exec
     * (a WebSocket) is recorded as {@code execInMachine} with status 101 when its session opens; a machine's create
     * that is answered {@code 201} was recorded in the transaction that created the machine.
     */
    private void audit(Context ctx) {
        Operation operation = Router.operation(ctx);
        String token = ctx.attribute(TOKEN_ID);
        if (operation == null || token == null || !operation.published()
                || operation.method() == Operation.Method.GET || ctx.attribute(AUDITED) != null) {
            return;
        }
        record(ctx, operation, operation.pathParams().contains("ns") ? ctx.pathParam("ns") : null, ctx.statusCode());
    }

    /** Appends {@code ctx}'s call of {@code operation}, answered {@code status}, to {@code ns}'s audit chain. */
    private void record(Context ctx, Operation operation, String ns, int status) {
        try {
            audit.record(call(ctx, operation, ns, status));
        } catch (IllegalStateException e) {
            log.error("{} {}: the call is not in the audit log: {}", ctx.method(), ctx.path(), e.getMessage());
        }
    }

    /** {@code ctx}'s call of {@code operation} in namespace {@code ns} (null: the cluster's), answered {@code status}. */
    private static AuditLog.Call call(Context ctx, Operation operation, String ns, int status) {
        return new AuditLog.Call(ctx.attribute(TOKEN_ID), ns, operation.id(), ctx.path(), status, ctx.ip());
    }

    private List<AuditEntry> auditEntries(Context ctx, String ns) {
        var filter = new AuditStore.Filter(QueryParams.instant("since", ctx.queryParam("since")),
                QueryParams.instant("until", ctx.queryParam("until")),
                Optional.ofNullable(ctx.queryParam("action")));
        return audit.list(ns, longParam(ctx, "cursor"), filter, limit(ctx));
    }

    /** A missing or unknown bearer token. */
    private static final class Unauthenticated extends RuntimeException {
        Unauthenticated(String message) {
            super(message);
        }
    }

    /** A token over its rate: {@code 429} with {@code Retry-After}. */
    private static final class RateLimited extends RuntimeException {
        final long retryAfterS;

        RateLimited(String message, long retryAfterS) {
            super(message);
            this.retryAfterS = retryAfterS;
        }
    }

    /**
     * Who the request's bearer token belongs to, found once per request; a namespace token's request is counted
     * against its rate then.
     */
    private Principal principal(Context ctx) {
        Principal known = ctx.attribute(PRINCIPAL);
        if (known != null) return known;
        Principal principal = authenticate(ctx);
        ctx.attribute(PRINCIPAL, principal);
        if (principal instanceof Principal.Tenant) {
            rates.take(ctx.attribute(TOKEN_ID)).ifPresent(seconds -> {
                throw new RateLimited(ctx.method() + " " + ctx.path() + ": this token made more than its "
                        + "requests a second; retry in " + seconds + " s", seconds);
            });
        }
        return principal;
    }

    private Principal authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || !header.startsWith("Bearer ") || header.length() <= 7) {
            throw new Unauthenticated(ctx.method() + " " + ctx.path() + ": needs Authorization: Bearer TOKEN");
        }
        var token = cluster.authenticate(header.substring(7).strip())
                .orElseThrow(() -> new Unauthenticated(ctx.method() + " " + ctx.path() + ": unknown token"));
        ctx.attribute(TOKEN_ID, token.id());
        if (token.expired(Instant.now())) {
            throw new Unauthenticated(ctx.method() + " " + ctx.path() + ": the token expired at "
                    + token.expiresAt().orElseThrow());
        }
        return switch (token.scope()) {
            case ADMIN -> new Principal.Admin();
            case NAMESPACE -> new Principal.Tenant(token.namespace(), token.role());
            case JOIN -> new Principal.Joiner();
            case NODE -> new Principal.Node(token.nodeId());
        };
    }

    /** An admin route: any other token is {@code 403 permission_denied} (the route's existence is no secret). */
    private void admin(Context ctx) {
        if (!(principal(ctx) instanceof Principal.Admin)) {
            throw ApiException.permissionDenied(ctx.method() + " " + ctx.path() + ": needs an admin token");
        }
    }

    /**
     * The path's namespace, when the caller may manage its tokens: the cluster's admin or the namespace's admin
     * token; {@code 403 permission_denied} for the namespace's member tokens, {@code 404} for others.
     */
    private String namespaceAdmin(Context ctx) {
        String ns = namespace(ctx);
        if (principal(ctx) instanceof Principal.Tenant t && t.role() != TokenRole.ADMIN) {
            throw ApiException.permissionDenied(ctx.method() + " " + ctx.path() + ": needs an admin token or the "
                    + "namespace's admin token");
        }
        return ns;
    }

    /** Answers a routes long poll: {@code version} the caller holds, {@code wait_s} at most. */
    private void routes(Context ctx, Optional<String> namespace) throws InterruptedException {
        int wait = intParam(ctx, "wait_s", 30, 0, MAX_POLL_S);
        ctx.json(cluster.feed().routes(namespace, Optional.ofNullable(ctx.queryParam("version")),
                Duration.ofSeconds(wait)));
    }

    /** The path's namespace, when the caller may see it and it exists; {@code 404} alike otherwise. */
    private String namespace(Context ctx) {
        String ns = ctx.pathParam("ns");
        boolean visible = switch (principal(ctx)) {
            case Principal.Admin a -> cluster.plane().namespaceExists(ns);
            case Principal.Tenant t -> t.namespace().equals(ns);
            case Principal.Joiner j -> false;
            case Principal.Node n -> false;
        };
        if (!visible) throw ApiException.notFound(ctx.method() + " " + ctx.path() + ": no namespace " + ns);
        return ns;
    }

    /** The path's node, when the caller is that node. */
    private String node(Context ctx) {
        String id = ctx.pathParam("id");
        if (principal(ctx) instanceof Principal.Node n && n.nodeId().equals(id)) return id;
        throw ApiException.notFound(ctx.method() + " " + ctx.path() + ": no node " + id);
    }

    /**
     * Asks the machine's node for the node API's answer to the same request and relays it: status, content type and
     * body as it comes. A client that goes away ends the agent's upload at the next bytes.
     */
    private void relay(Context ctx, String kind, Map<String, String> params, String body) throws Exception {
        String ns = namespace(ctx);
        try (var stream = cluster.streams().open(ns, ctx.pathParam("id"), kind, params, body)) {
            relay(ctx, stream, kind + " of machine " + ctx.pathParam("id"));
        }
    }

    /** Relays the node's answer to {@code stream} ({@code what}): status, content type and body as it comes. */
    private static void relay(Context ctx, Streams.Pending stream, String what) throws Exception {
        Streams.Answer answer = stream.await();
        ctx.status(answer.status()).contentType(answer.contentType());
        if (answer.status() / 100 != 2) {
            // An error of the node API: a small JSON body, sent whole (and not replaced by the 404 handler).
            try (InputStream in = answer.body()) {
                ctx.result(in.readAllBytes());
            }
            return;
        }
        // The servlet's own stream: Javalin's wrapper holds writes back until the handler returns.
        var out = ctx.res().getOutputStream();
        try (InputStream in = answer.body()) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // The client left, or the node's upload broke (its agent died): either way the stream is over.
            log.debug("stream {} ({}) ended: {}", stream.id(), what, e.toString());
        }
    }

    private void relaySocket(WsConfig ws, WsConnectHandler connected) {
        ws.onConnect(connected);
        ws.onMessage(ctx -> sockets.message(ctx, ctx.message()));
        ws.onBinaryMessage(ctx -> {
            ByteBuffer data = ctx.data();
            ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data.duplicate()).flip();
            sockets.message(ctx, copy);
        });
        ws.onClose(ctx -> sockets.closed(ctx, ctx.status(), ctx.reason()));
        ws.onError(ctx -> sockets.closed(ctx, 1011, ctx.error() == null ? "error" : ctx.error().toString()));
    }

    /** The agent's answer to a stream request: the node API's status in {@code Bolero-Status}, its body as it comes. */
    private void answer(Context ctx) throws InterruptedException, IOException {
        String node = node(ctx);
        String stream = ctx.pathParam("stream");
        String header = ctx.header(STATUS_HEADER);
        int status;
        try {
            status = Integer.parseInt(header == null ? "" : header);
        } catch (NumberFormatException e) {
            throw ApiException.invalid("answer stream " + stream + ": " + STATUS_HEADER + " must be an HTTP status, got '"
                    + header + "'");
        }
        if (status < 200 || status > 599) {
            throw ApiException.invalid("answer stream " + stream + ": " + STATUS_HEADER + " " + status
                    + " is not an HTTP status");
        }
        String type = ctx.contentType() == null ? "application/octet-stream" : ctx.contentType();
        // A followed log may be quiet for long: the upload lives until its public request ends, the agent's
        // connection breaks, or its node is found down (which closes it).
        EndPoint upload = ServletContextRequest.getServletContextRequest(ctx.req()).getConnectionMetaData()
                .getConnection().getEndPoint();
        long idleTimeout = upload.getIdleTimeout();
        upload.setIdleTimeout(0);
        try {
            cluster.streams().answer(node, stream, new Streams.Answer(status, type, ctx.req().getInputStream(),
                    upload::close));
        } catch (ApiException refused) {
            // No one waits for this answer: take in what the agent sends of it (at most 64 KiB, within the usual idle
            // timeout) before refusing, so the refusal reaches the agent instead of a reset of the connection it is
            // still writing its body to.
            upload.setIdleTimeout(idleTimeout);
            try {
                ctx.req().getInputStream().readNBytes(LATE_ANSWER_DRAIN_BYTES);
            } catch (IOException e) {
                log.debug("answer stream {}: the refused answer's body: {}", stream, e.toString());
            }
            throw refused;
        }
        ctx.status(204);
    }

    /** The node API's log parameters present in the request. */
    private static Map<String, String> logParams(Context ctx) {
        var params = new LinkedHashMap<String, String>();
        for (String name : LOG_PARAMS) {
            String v = ctx.queryParam(name);
            if (v != null) params.put(name, v);
        }
        return params;
    }

    private static ApiException noRoute(Context ctx) {
        return ApiException.notFound("no route " + ctx.method() + " " + ctx.path());
    }

    private static Set<MachineState> states(Context ctx, boolean required) {
        String param = ctx.queryParam("state");
        if (param == null || param.isBlank()) {
            if (required) throw ApiException.invalid("wait: the state parameter is required (e.g. ?state=running)");
            return Set.of();
        }
        Set<MachineState> states = EnumSet.noneOf(MachineState.class);
        for (String s : param.split(",")) states.add(MachineState.parse(s.strip()));
        return states;
    }

    /**
     * The {@code metadata.KEY=VALUE} filters of a list.
     *
     * @throws ApiException {@code invalid_argument} for a key metadata cannot have, or a key given twice
     */
    private static Map<String, String> metadata(Context ctx) {
        var filters = new java.util.TreeMap<String, String>();
        ctx.queryParamMap().forEach((name, values) -> {
            if (!name.startsWith("metadata.")) return;
            String key = name.substring("metadata.".length());
            if (!key.matches("[a-z0-9_.-]{1,63}")) {
                throw ApiException.invalid(name + ": a metadata key is 1-63 of a-z 0-9 _ . -");
            }
            if (values.size() != 1) throw ApiException.invalid(name + " is given " + values.size() + " times");
            filters.put(key, values.getFirst());
        });
        return filters;
    }

    private static <T> T body(Context ctx, Class<T> type, String action) {
        return Router.body(ctx, type, action);
    }

    private static int intParam(Context ctx, String name, int dflt, int min, int max) {
        return QueryParams.wholeNumber(name, ctx.queryParam(name), dflt, min, max);
    }

    /** The {@code limit} of a list's page: 1 to {@link Page#MAX_LIMIT}, {@link Page#DEFAULT_LIMIT} when absent. */
    private static int limit(Context ctx) {
        return intParam(ctx, "limit", Page.DEFAULT_LIMIT, 1, Page.MAX_LIMIT);
    }

    /**
     * The page of a list keyed by id or name that {@code cursor} (the last key of the previous page; from the first
     * when absent) and {@code limit} ask for.
     *
     * @throws ApiException {@code invalid_argument} for a cursor that no id or name can be, or a bad limit
     */
    private static Page page(Context ctx) {
        String cursor = ctx.queryParam("cursor");
        if (cursor == null) return Page.first(limit(ctx));
        if (!CURSOR.matcher(cursor).matches()) {
            throw ApiException.invalid("cursor must be the last id or name of the previous page (1-253 of A-Z a-z "
                    + "0-9 _ . -), got '" + cursor + "'");
        }
        return Page.first(limit(ctx)).after(cursor);
    }

    private static long longParam(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null) return 0;
        try {
            long n = Long.parseLong(v);
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // the error below names the value
        }
        throw ApiException.invalid(name + " must be a whole number from 0, got '" + v + "'");
    }

}
