package dev.bolero.client;

import dev.bolero.api.ApiJson;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.ForkMachineRequest;
import dev.bolero.api.MachineEvent;
import dev.bolero.api.wire.AuditEntry;
import dev.bolero.api.wire.CertificateUpload;
import dev.bolero.api.wire.GatewayCertificate;
import dev.bolero.api.wire.Hostname;
import dev.bolero.api.wire.HostnameSpec;
import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.UpdateClusterMachine;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.DeploySpec;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.MachineStats;
import dev.bolero.api.wire.Release;
import dev.bolero.api.wire.GatewayMembership;
import dev.bolero.api.wire.GatewayRoutes;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.Namespace;
import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.api.wire.NodeInfo;
import dev.bolero.api.wire.SecretInfo;
import dev.bolero.api.wire.SecretValue;
import dev.bolero.api.wire.TokenInfo;
import dev.bolero.api.wire.TokenResponse;
import dev.bolero.api.wire.TokenSpec;
import dev.bolero.api.wire.NamespaceQuota;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.Volume;
import dev.bolero.api.wire.VolumeExtend;
import dev.bolero.api.wire.VolumeMove;
import dev.bolero.api.wire.VolumeMoveSpec;
import dev.bolero.api.wire.VolumeSnapshot;
import dev.bolero.api.wire.VolumeSnapshotSpec;
import dev.bolero.api.wire.VolumeSpec;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A client of one control plane ({@code http://host:port}) with one bearer token. Thread-safe; every method is one
 * HTTP request.
 *
 * <p>Every method throws {@link ClientException} when the server answers with an error (carrying its status and
 * code) or cannot be reached ({@code status() == 0}, code {@code unavailable}).
 */
public final class BoleroClient {
    private static final JsonMapper JSON = ApiJson.mapper();

    private final URI server;
    private final String token;
    private final HttpClient http;

    public BoleroClient(URI server, String token) {
        this(server, token, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
    }

    /** A client sending through {@code http} (tests check its answers against the server's document). */
    BoleroClient(URI server, String token, HttpClient http) {
        this.server = Objects.requireNonNull(server, "server");
        this.token = Objects.requireNonNull(token, "token");
        this.http = Objects.requireNonNull(http, "http");
    }

    // --- namespaces and tokens ---

    public Namespace createNamespace(String name) {
        return send("POST", "/v1/namespaces", new NamespaceSpec(name), Namespace.class);
    }

    /** The namespaces the token may see, by name: every page. */
    public List<Namespace> namespaces() {
        return all("/v1/namespaces", "", new TypeReference<List<Namespace>>() {}, Namespace::name);
    }

    /** A new member token that sees only {@code namespace} and does not expire; shown once. */
    public TokenResponse createToken(String namespace) {
        return createToken(namespace, new TokenSpec(null, null, null));
    }

    /** A new token of {@code namespace} with {@code spec}'s role, expiry and description; shown once. */
    public TokenResponse createToken(String namespace, TokenSpec spec) {
        return send("POST", ns(namespace) + "/tokens", spec, TokenResponse.class);
    }

    /** The namespace's tokens by id: ids, roles and expiries, never the tokens; every page. */
    public List<TokenInfo> tokens(String namespace) {
        return all(ns(namespace) + "/tokens", "", new TypeReference<List<TokenInfo>>() {}, TokenInfo::id);
    }

    /** Revokes the namespace's token {@code id}. */
    public void revokeToken(String namespace, String id) {
        send("DELETE", ns(namespace) + "/tokens/" + enc(id), null, JsonNode.class);
    }

    // --- audit log ---

    /**
     * Every entry of {@code namespace}'s audit log (null: the cluster's, admin only) that {@code filter} selects,
     * oldest first: the pages the server gives, followed to the end.
     */
    public List<AuditEntry> audit(String namespace, AuditFilter filter) {
        return all((namespace == null ? "/v1" : ns(namespace)) + "/audit", filter.query(),
                new TypeReference<List<AuditEntry>>() {}, e -> Long.toString(e.seq()));
    }

    // --- secrets ---

    /** Sets secret {@code name}'s value (a new version, or the first); the answer never holds the value. */
    /** Rolls the namespace's fleets whose config uses secret {@code name} onto its current value; the deployments. */
    public List<Deployment> rollSecret(String namespace, String name) {
        return send("POST", ns(namespace) + "/secrets/" + enc(name) + "/roll", null,
                new TypeReference<List<Deployment>>() {});
    }

    public SecretInfo setSecret(String namespace, String name, String value) {
        return send("PUT", ns(namespace) + "/secrets/" + enc(name), new SecretValue(null, value), SecretInfo.class);
    }

    /** The namespace's secrets, by name: every page. */
    public List<SecretInfo> secrets(String namespace) {
        return all(ns(namespace) + "/secrets", "", new TypeReference<List<SecretInfo>>() {}, SecretInfo::name);
    }

    public void deleteSecret(String namespace, String name) {
        send("DELETE", ns(namespace) + "/secrets/" + enc(name), null, JsonNode.class);
    }

    // --- quotas ---

    /** The namespace's quota and what it holds now. */
    public NamespaceQuota quota(String namespace) {
        return send("GET", ns(namespace) + "/quota", null, NamespaceQuota.class);
    }

    /** Sets the namespace's quota, replacing every limit (an admin token). */
    public NamespaceQuota setQuota(String namespace, Quota quota) {
        return send("PUT", ns(namespace) + "/quota", quota, NamespaceQuota.class);
    }

    // --- volumes ---

    /**
     * Creates a volume of {@code sizeGb} GiB; {@code region} may be null (any), {@code snapshot} null (empty) or the
     * id of a snapshot to restore.
     */
    public Volume createVolume(String namespace, String name, int sizeGb, String region, String snapshot) {
        return send("POST", ns(namespace) + "/volumes", new VolumeSpec(name, sizeGb, region, snapshot), Volume.class);
    }

    /** Takes a snapshot of a volume (consistent: a running machine's guest freezes its file system meanwhile). */
    public VolumeSnapshot snapshotVolume(String namespace, String name) {
        return snapshotVolume(namespace, name, null);
    }

    /**
     * Takes a snapshot of a volume and keeps only its newest {@code keep} snapshots (null: all of them), deleting the
     * older ones with every copy.
     */
    public VolumeSnapshot snapshotVolume(String namespace, String name, Integer keep) {
        return send("POST", ns(namespace) + "/volumes/" + enc(name) + "/snapshots", new VolumeSnapshotSpec(keep),
                VolumeSnapshot.class);
    }

    /** Deletes snapshot {@code snapshot} of volume {@code name} and every copy of it. */
    public void deleteVolumeSnapshot(String namespace, String name, String snapshot) {
        send("DELETE", ns(namespace) + "/volumes/" + enc(name) + "/snapshots/" + enc(snapshot), null, JsonNode.class);
    }

    /** The volume's snapshots, by id: every page. */
    public List<VolumeSnapshot> volumeSnapshots(String namespace, String name) {
        return all(ns(namespace) + "/volumes/" + enc(name) + "/snapshots", "",
                new TypeReference<List<VolumeSnapshot>>() {}, VolumeSnapshot::id);
    }

    /** Begins moving a volume to {@code node}, or to a feasible node when it is null; the move as it began. */
    public VolumeMove moveVolume(String namespace, String name, String node) {
        return send("POST", ns(namespace) + "/volumes/" + enc(name) + "/move", new VolumeMoveSpec(node),
                VolumeMove.class);
    }

    /** A volume's moves with their steps, newest first: every page. */
    public List<VolumeMove> volumeMoves(String namespace, String name) {
        return all(ns(namespace) + "/volumes/" + enc(name) + "/moves", "", new TypeReference<List<VolumeMove>>() {},
                VolumeMove::id);
    }

    /** The namespace's volumes, by name: every page. */
    public List<Volume> volumes(String namespace) {
        return all(ns(namespace) + "/volumes", "", new TypeReference<List<Volume>>() {}, Volume::name);
    }

    public Volume volume(String namespace, String name) {
        return send("GET", ns(namespace) + "/volumes/" + enc(name), null, Volume.class);
    }

    /** Grows volume {@code name} to {@code sizeGb} GiB (a smaller size is refused). */
    public Volume extendVolume(String namespace, String name, int sizeGb) {
        return send("PUT", ns(namespace) + "/volumes/" + enc(name) + "/extend", new VolumeExtend(sizeGb),
                Volume.class);
    }

    /** Deletes a detached volume and its data. */
    public void deleteVolume(String namespace, String name) {
        send("DELETE", ns(namespace) + "/volumes/" + enc(name), null, JsonNode.class);
    }

    // --- fleets ---

    public Fleet createFleet(String namespace, FleetSpec spec) {
        return send("POST", ns(namespace) + "/fleets", spec, Fleet.class);
    }

    /** The namespace's fleets, by name: every page. */
    public List<Fleet> fleets(String namespace) {
        return all(ns(namespace) + "/fleets", "", new TypeReference<List<Fleet>>() {}, Fleet::name);
    }

    public Fleet fleet(String namespace, String fleet) {
        return send("GET", ns(namespace) + "/fleets/" + enc(fleet), null, Fleet.class);
    }

    /**
     * Replaces the fleet's spec (placement defaults and machine config); machines created afterwards use it, existing
     * ones keep theirs.
     */
    public Fleet updateFleet(String namespace, String fleet, FleetSpec spec) {
        return send("PUT", ns(namespace) + "/fleets/" + enc(fleet), spec, Fleet.class);
    }

    public void deleteFleet(String namespace, String fleet) {
        send("DELETE", ns(namespace) + "/fleets/" + enc(fleet), null, JsonNode.class);
    }

    /** The fleet's releases, newest first: every page. */
    public List<Release> releases(String namespace, String fleet) {
        return all(ns(namespace) + "/fleets/" + enc(fleet) + "/releases", "", new TypeReference<List<Release>>() {},
                r -> Long.toString(r.version()));
    }

    /** Starts a deployment of the fleet; the control plane carries it out (poll {@link #deployment}). */
    public Deployment deploy(String namespace, String fleet, DeploySpec spec) {
        return send("POST", ns(namespace) + "/fleets/" + enc(fleet) + "/deployments", spec, Deployment.class);
    }

    public Deployment deployment(String namespace, String fleet, String id) {
        return send("GET", ns(namespace) + "/fleets/" + enc(fleet) + "/deployments/" + enc(id), null,
                Deployment.class);
    }

    /** The fleet's deployments, newest first: every page. */
    public List<Deployment> deployments(String namespace, String fleet) {
        return all(ns(namespace) + "/fleets/" + enc(fleet) + "/deployments", "",
                new TypeReference<List<Deployment>>() {}, Deployment::id);
    }

    // --- custom host names ---

    /** Attaches a custom host name to the fleet, with an uploaded certificate or (without one) ACME's. */
    public Hostname attachHostname(String namespace, String fleet, HostnameSpec spec) {
        return send("POST", hostnamesPath(namespace, fleet), spec, Hostname.class);
    }

    /** The fleet's custom host names, by name: every page. */
    public List<Hostname> hostnames(String namespace, String fleet) {
        return all(hostnamesPath(namespace, fleet), "", new TypeReference<List<Hostname>>() {}, Hostname::hostname);
    }

    public Hostname hostname(String namespace, String fleet, String hostname) {
        return send("GET", hostnamesPath(namespace, fleet) + "/" + enc(hostname), null, Hostname.class);
    }

    /** Sets or replaces the certificate the gateways serve for one of the fleet's host names. */
    public Hostname uploadCertificate(String namespace, String fleet, String hostname, CertificateUpload upload) {
        return send("PUT", hostnamesPath(namespace, fleet) + "/" + enc(hostname) + "/certificate", upload,
                Hostname.class);
    }

    public void detachHostname(String namespace, String fleet, String hostname) {
        send("DELETE", hostnamesPath(namespace, fleet) + "/" + enc(hostname), null, JsonNode.class);
    }

    /** A custom host name's uploaded certificate with its key, for a gateway (admin). */
    public GatewayCertificate gatewayCertificate(String hostname) {
        return send("GET", "/v1/gateway/certificates/" + enc(hostname), null, GatewayCertificate.class);
    }

    /**
     * Registers (or renews) a gateway's WireGuard key and endpoint in the private network's mesh (admin): its address
     * and the nodes to peer with.
     */
    public GatewayMembership joinGatewayMesh(NodeLink link) {
        return send("POST", "/v1/gateway/mesh", link, GatewayMembership.class);
    }

    /** Ends a gateway's registration in the mesh (admin): the nodes drop its peer. */
    public void leaveGatewayMesh(String id) {
        send("DELETE", "/v1/gateway/mesh/" + enc(id), null, JsonNode.class);
    }

    private static String hostnamesPath(String namespace, String fleet) {
        return ns(namespace) + "/fleets/" + enc(fleet) + "/hostnames";
    }

    // --- machines ---

    public ClusterMachine createMachine(String namespace, String fleet, CreateClusterMachine body) {
        return send("POST", ns(namespace) + "/fleets/" + enc(fleet) + "/machines", body, ClusterMachine.class);
    }

    /** The namespace's machines, optionally of one fleet; every state when {@code states} is empty. */
    public List<ClusterMachine> machines(String namespace, String fleet, Set<MachineState> states) {
        return machines(namespace, fleet, states, Map.of());
    }

    /**
     * Like {@link #machines(String, String, Set)}, only those whose metadata has every entry of {@code metadata}:
     * every page, oldest first.
     */
    public List<ClusterMachine> machines(String namespace, String fleet, Set<MachineState> states,
                                         Map<String, String> metadata) {
        StringBuilder query = new StringBuilder();
        metadata.forEach((k, v) -> query.append("&metadata.").append(enc(k)).append('=').append(enc(v)));
        if (fleet != null) query.append("&fleet=").append(enc(fleet));
        if (!states.isEmpty()) {
            query.append("&state=").append(states.stream().map(MachineState::wireName).sorted()
                    .collect(Collectors.joining(",")));
        }
        var machines = new ArrayList<>(all(ns(namespace) + "/machines", query.toString(),
                new TypeReference<List<ClusterMachine>>() {}, ClusterMachine::id));
        machines.sort(Comparator.comparing(ClusterMachine::createdAt).thenComparing(ClusterMachine::id));
        return machines;
    }

    public ClusterMachine machine(String namespace, String id) {
        return send("GET", machinePath(namespace, id), null, ClusterMachine.class);
    }

    /** Gives the machine a new config under its id ({@link UpdateClusterMachine}); its node replaces it. */
    public ClusterMachine update(String namespace, String id, UpdateClusterMachine body) {
        return send("POST", machinePath(namespace, id), body, ClusterMachine.class);
    }

    public ClusterMachine start(String namespace, String id) {
        return send("POST", machinePath(namespace, id) + "/start", null, ClusterMachine.class);
    }

    /**
     * Suspends a machine: answers at once with its desired state {@code suspended}; its state follows once its node
     * has saved it. {@link #start} resumes it.
     */
    public ClusterMachine suspend(String namespace, String id) {
        return send("POST", machinePath(namespace, id) + "/suspend", null, ClusterMachine.class);
    }

    /**
     * Makes {@code count} new machines from a live snapshot of the running machine {@code id}, which runs on: answers
     * at once with the clones, placed on its node; their state becomes running once it has resumed them.
     */
    public List<ClusterMachine> fork(String namespace, String id, int count) {
        return send("POST", machinePath(namespace, id) + "/fork", new ForkMachineRequest(count),
                new TypeReference<List<ClusterMachine>>() {});
    }

    /** Stops a machine; {@code stop} null for its {@code config.stop} (by default SIGTERM, 10 s). */
    public ClusterMachine stop(String namespace, String id, MachineSpec.Stop stop) {
        return send("POST", machinePath(namespace, id) + "/stop", stop, ClusterMachine.class);
    }

    public void delete(String namespace, String id) {
        send("DELETE", machinePath(namespace, id), null, JsonNode.class);
    }

    /** Waits (server side, at most {@code timeout}) until the machine is in one of {@code states}. */
    public ClusterMachine await(String namespace, String id, Set<MachineState> states, Duration timeout) {
        String state = states.stream().map(MachineState::wireName).sorted().collect(Collectors.joining(","));
        return send("GET", machinePath(namespace, id) + "/wait?state=" + state + "&timeout_s=" + timeout.toSeconds(),
                null, ClusterMachine.class, timeout.plusSeconds(30));
    }

    /**
     * The HTTP routes the gateways follow (admin): at once when {@code seen} is empty, else once they differ from
     * version {@code seen} or {@code wait} has passed (then the same version again).
     */
    public GatewayRoutes gatewayRoutes(Optional<String> seen, Duration wait) {
        String query = "?wait_s=" + wait.toSeconds() + seen.map(v -> "&version=" + enc(v)).orElse("");
        return send("GET", "/v1/gateway/routes" + query, null, GatewayRoutes.class, wait.plusSeconds(30));
    }

    /**
     * Copies the machine's log to {@code out} as it comes (flushing after each piece), until its end; with
     * {@link LogOptions#follow()}, until the machine stops or the calling thread is interrupted.
     *
     * @throws ClientException also when writing to {@code out} fails ({@code status() == 0}, code {@code io})
     */
    public void logs(String namespace, String id, LogOptions options, OutputStream out) {
        copyLogs(machinePath(namespace, id) + "/logs" + options.query(), out);
    }

    /**
     * Like {@link #logs}, but from a node agent's own API: this client's URL is then the agent's
     * ({@code http://host:7070}), and the machine is named by its id on that node.
     */
    public void nodeLogs(String id, LogOptions options, OutputStream out) {
        copyLogs("/api/v1/machines/" + enc(id) + "/logs" + options.query(), out);
    }

    private void copyLogs(String path, OutputStream out) {
        String action = "GET " + path;
        var request = HttpRequest.newBuilder(server.resolve(path)).header("Authorization", "Bearer " + token).GET();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new ClientException(action + ": cannot reach " + server + ": " + ClientException.cause(e), 0,
                    "unavailable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException(action + ": interrupted", 0, "unavailable", e);
        }
        try (InputStream in = response.body()) {
            if (response.statusCode() / 100 != 2) {
                throw failure(action, response.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            throw new ClientException(action + ": " + e.getMessage(), 0, "io", e);
        }
    }

    /** The machine's history, oldest first. */
    public List<MachineEvent> events(String namespace, String id) {
        return send("GET", machinePath(namespace, id) + "/events", null, new TypeReference<List<MachineEvent>>() {});
    }

    /**
     * What the machine uses now, and its samples of the last {@code windowSeconds} (0 to 3600; samples are taken every
     * 10 s); no samples when it does not run.
     */
    public MachineStats stats(String namespace, String id, int windowSeconds) {
        return send("GET", machinePath(namespace, id) + "/stats?window_s=" + windowSeconds, null, MachineStats.class);
    }

    /** Runs a command in the machine and returns its result once it ends (or its timeout kills it). */
    public ExecResult exec(String namespace, String id, ExecRequest request) {
        return send("POST", machinePath(namespace, id) + "/exec", request, ExecResult.class,
                Duration.ofSeconds(request.timeoutSeconds() + 30L));
    }

    // --- nodes (admin) ---

    /** The cluster's nodes, by id: every page. */
    public List<NodeInfo> nodes() {
        return all("/v1/nodes", "", new TypeReference<List<NodeInfo>>() {}, NodeInfo::id);
    }

    public NodeInfo node(String id) {
        return send("GET", "/v1/nodes/" + enc(id), null, NodeInfo.class);
    }

    /** {@code cordon}, {@code uncordon} or {@code drain}. */
    public NodeInfo nodeAction(String id, String action) {
        if (!Set.of("cordon", "uncordon", "drain").contains(action)) {
            throw new IllegalArgumentException("node action must be cordon, uncordon or drain, got " + action);
        }
        return send("POST", "/v1/nodes/" + enc(id) + "/" + action, null, NodeInfo.class);
    }

    /** Removes a node from the cluster for good (it must be down, cordoned or draining, and empty). */
    public void removeNode(String id) {
        send("DELETE", "/v1/nodes/" + enc(id), null, JsonNode.class);
    }

    /** {@code GET /v1/status} (admin): {@code replica}, {@code leader}, {@code index}. */
    public Map<String, Object> status() {
        return send("GET", "/v1/status", null, new TypeReference<Map<String, Object>>() {});
    }

    // --- plumbing ---

    private static String ns(String namespace) {
        return "/v1/namespaces/" + enc(namespace);
    }

    private static String machinePath(String namespace, String id) {
        return ns(namespace) + "/machines/" + enc(id);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The largest page the server gives. */
    private static final int PAGE = 1000;

    /**
     * Every item of the list at {@code path} with query {@code params} (each led by {@code &}; empty for none): the
     * pages the server gives, each read after the last {@code key} of the one before, until a short page.
     */
    private <T> List<T> all(String path, String params, TypeReference<List<T>> type, Function<T, String> key) {
        String first = path + "?limit=" + PAGE + params;
        var all = new ArrayList<T>();
        for (String cursor = null; ; ) {
            List<T> page = send("GET", cursor == null ? first : first + "&cursor=" + enc(cursor), null, type);
            all.addAll(page);
            if (page.size() < PAGE) return all;
            cursor = key.apply(page.getLast());
        }
    }

    private <T> T send(String method, String path, Object body, Class<T> type) {
        return send(method, path, body, type, Duration.ofSeconds(60));
    }

    private <T> T send(String method, String path, Object body, Class<T> type, Duration timeout) {
        String answer = exchange(method, path, body, timeout);
        return answer.isEmpty() ? null : JSON.readValue(answer, type);
    }

    private <T> T send(String method, String path, Object body, TypeReference<T> type) {
        return JSON.readValue(exchange(method, path, body, Duration.ofSeconds(60)), type);
    }

    private String exchange(String method, String path, Object body, Duration timeout) {
        String action = method + " " + path;
        var request = HttpRequest.newBuilder(server.resolve(path)).timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new ClientException(action + ": cannot reach " + server + ": " + ClientException.cause(e), 0,
                    "unavailable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException(action + ": interrupted", 0, "unavailable", e);
        }
        if (response.statusCode() / 100 == 2) return response.body();
        throw failure(action, response.statusCode(), response.body());
    }

    private static ClientException failure(String action, int status, String body) {
        String code = "http_" + status;
        String message = body;
        try {
            JsonNode error = JSON.readTree(body).path("error");
            if (error.has("code")) code = error.path("code").asString();
            if (error.has("message")) message = error.path("message").asString();
        } catch (RuntimeException e) {
            // not the API's error shape: keep the raw body
        }
        return new ClientException(action + ": " + message, status, code, null);
    }
}
