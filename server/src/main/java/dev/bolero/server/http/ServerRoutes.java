package dev.bolero.server.http;

import dev.bolero.api.ExecRequest;
import dev.bolero.api.ForkMachineRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineSpec;
import dev.bolero.api.http.OpenApi;
import dev.bolero.api.http.Operation;
import dev.bolero.api.http.Telemetry;
import dev.bolero.api.wire.GatewayMembership;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.SecretInfo;
import dev.bolero.api.wire.SecretValue;
import dev.bolero.api.wire.Volume;
import dev.bolero.api.wire.VolumeExtend;
import dev.bolero.api.wire.VolumeMove;
import dev.bolero.api.wire.VolumeMoveReport;
import dev.bolero.api.wire.VolumeMoveSpec;
import dev.bolero.api.wire.VolumeSnapshot;
import dev.bolero.api.wire.VolumeSnapshotSpec;
import dev.bolero.api.wire.VolumeSpec;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.AuditEntry;
import dev.bolero.api.wire.MachineStats;
import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.UpdateClusterMachine;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.DeploySpec;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Release;
import dev.bolero.api.wire.CertificateUpload;
import dev.bolero.api.wire.GatewayCertificate;
import dev.bolero.api.wire.GatewayRoutes;
import dev.bolero.api.wire.Hostname;
import dev.bolero.api.wire.HostnameSpec;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.HeartbeatResponse;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.Namespace;
import dev.bolero.api.wire.NamespaceQuota;
import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.NodeInfo;
import dev.bolero.api.wire.TokenInfo;
import dev.bolero.api.wire.TokenResponse;
import dev.bolero.api.wire.TokenSpec;
import dev.bolero.server.store.Page;
import java.util.List;
import java.util.stream.Stream;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * Every operation of the control plane's {@code /v1} API, declared once: {@link ServerApi} registers a handler for
 * each, and the document served at {@code /v1/openapi.json} is built from them. The node-to-server protocol
 * ({@code /v1/nodes/join}, assignments, heartbeats, stream answers) is registered but not published: it is
 * described in {@code docs/cluster-protocol.md}.
 */
final class ServerRoutes {
    private ServerRoutes() {}

    static final String NS = "/v1/namespaces/{ns}";
    private static final String STATES = "machine states, comma-separated (created, starting, running, stopping, "
            + "stopped, failed, suspended, destroyed)";

    static final OpenApi.Info INFO = new OpenApi.Info("Bolero control plane", "1",
            "The control plane's public API: namespaces (tenants) and their tokens, fleets, machines, and the "
                    + "nodes they run on. Every operation but this document needs Authorization: Bearer TOKEN. "
                    + "Errors are {\"error\": {\"code\", \"message\"}}. The node-to-server protocol is described in "
                    + "docs/cluster-protocol.md, not here.",
            true, Map.ofEntries(
                    Map.entry("meta", "This document and the replica's status"),
                    Map.entry("namespaces", "Tenants and their tokens (creating either needs an admin token)"),
                    Map.entry("fleets", "Groups of machines sharing a placement policy and a machine template"),
                    Map.entry("machines", "Machines: create, inspect, start, stop, suspend, wait, logs, events, "
                            + "exec"),
                    Map.entry("nodes", "The cluster's nodes (admin only)"),
                    Map.entry("secrets", "A namespace's secrets: write-only values, encrypted at rest; only names, "
                            + "versions and digests are ever shown"),
                    Map.entry("audit", "The append-only, hash-chained log of mutating calls: a namespace's own, and "
                            + "the cluster's (admin)"),
                    Map.entry("volumes", "A namespace's volumes: block devices that outlive machines, on one node at a "
                            + "time"),
                    Map.entry("gateway", "The HTTP routes the gateways follow: fleets with an http_service and their "
                            + "machines"),
                    Map.entry("hostnames", "A fleet's custom host names, each claimed by one namespace across the "
                            + "cluster, and their TLS certificates: the tenant's uploaded one (its key encrypted at rest "
                            + "and never shown) or one the gateways get from their ACME server"),
                    Map.entry(Telemetry.TAG, Telemetry.TAG_DESCRIPTION),
                    Map.entry("protocol", "The node-to-server protocol (not published)")), List.of(429, 503));

    private static final String LIMIT = "at most this many items, 1 to " + Page.MAX_LIMIT + " (default "
            + Page.DEFAULT_LIMIT + ")";

    /**
     * A list of {@code type} read page by page in the order of {@code key} (id or name): its {@code cursor} and
     * {@code limit} parameters. A page shorter than its limit is the last.
     */
    private static Operation.Builder paged(Operation.Builder list, String key, Class<?> type) {
        return pagedBy(list, "only items whose " + key + " sorts after this one (the last " + key
                + " of the previous page)", type);
    }

    /**
     * A list of {@code type} read page by page in its own order: its {@code cursor} parameter (what it selects,
     * {@code cursor}) and {@code limit}. A page shorter than its limit is the last.
     */
    private static Operation.Builder pagedBy(Operation.Builder list, String cursor, Class<?> type) {
        return list.query("cursor", "string", cursor).query("limit", "integer", LIMIT).returnsArrayOf(200, type);
    }

    static final Operation OPENAPI = Operation.get("/v1/openapi.json").id("getOpenApi").tag("meta")
            .summary("This document").returns(200, ObjectNode.class).anonymous().build();
    static final Operation STATUS = Operation.get("/v1/status").id("getStatus").tag("meta")
            .summary("The replica's name, whether it leads, and the store's change index")
            .returns(200, ServerStatus.class).errors(403).build();

    static final Operation CREATE_NAMESPACE = Operation.post("/v1/namespaces").id("createNamespace")
            .tag("namespaces").summary("Creates a namespace (admin)").body(NamespaceSpec.class)
            .returns(201, Namespace.class).errors(403, 409).build();
    static final Operation LIST_NAMESPACES = paged(Operation.get("/v1/namespaces").id("listNamespaces")
            .tag("namespaces").summary("The namespaces the token may see, by name"), "name", Namespace.class)
            .errors(403).build();
    static final Operation GET_NAMESPACE = Operation.get(NS).id("getNamespace").tag("namespaces")
            .summary("One namespace").returns(200, Namespace.class).build();
    static final Operation CREATE_TOKEN = Operation.post(NS + "/tokens").id("createToken").tag("namespaces")
            .summary("Mints a token scoped to the namespace, shown once (admin, or the namespace's admin token)")
            .description("An empty body mints a member token that does not expire.").body(TokenSpec.class)
            .returns(201, TokenResponse.class).errors(403).build();
    static final Operation LIST_TOKENS = paged(Operation.get(NS + "/tokens").id("listTokens").tag("namespaces")
            .summary("The namespace's tokens by id: ids, roles, expiries, never the tokens (admin, or the "
                    + "namespace's admin token)"), "id", TokenInfo.class).errors(403).build();
    static final Operation REVOKE_TOKEN = Operation.delete(NS + "/tokens/{token}").id("revokeToken")
            .tag("namespaces").summary("Revokes one of the namespace's tokens: it stops working at once (admin, or "
                    + "the namespace's admin token)").returnsNothing(204).errors(403).build();

    static final Operation GET_QUOTA = Operation.get(NS + "/quota").id("getQuota").tag("namespaces")
            .summary("The namespace's quota and what it holds now (admin, or any token of the namespace)")
            .returns(200, NamespaceQuota.class).build();
    static final Operation SET_QUOTA = Operation.put(NS + "/quota").id("setQuota").tag("namespaces")
            .summary("Sets the namespace's quota (admin)")
            .description("Replaces every limit: one left out is unlimited. Creates and changes that would take the "
                    + "namespace past a limit are refused with 403 quota_exceeded; a limit below what the namespace "
                    + "holds deletes nothing.")
            .body(Quota.class).returns(200, NamespaceQuota.class).errors(403).build();

    static final Operation CREATE_SECRET = Operation.post(NS + "/secrets").id("createSecret").tag("secrets")
            .summary("Creates a secret (its value is never shown again)").body(SecretValue.class)
            .returns(201, SecretInfo.class).errors(409).build();
    static final Operation LIST_SECRETS = paged(Operation.get(NS + "/secrets").id("listSecrets").tag("secrets")
            .summary("The namespace's secrets by name: names, versions and digests"), "name", SecretInfo.class).build();
    static final Operation GET_SECRET = Operation.get(NS + "/secrets/{secret}").id("getSecret").tag("secrets")
            .summary("One secret's name, version and digest").returns(200, SecretInfo.class).build();
    static final Operation PUT_SECRET = Operation.put(NS + "/secrets/{secret}").id("setSecret").tag("secrets")
            .summary("Sets a secret's value: its next version, or the first of a new secret").body(SecretValue.class)
            .returns(200, SecretInfo.class).build();
    static final Operation ROLL_SECRET = Operation.post(NS + "/secrets/{secret}/roll").id("rollSecret")
            .tag("secrets").summary("Rolls the fleets using a secret onto its current value")
            .description("Every fleet of the namespace whose config gives its machines this secret, and that keeps a "
                    + "count, is deployed again (a new release of the same config, rolling one machine at a time), so "
                    + "each machine is replaced by one booted with the secret's current value. A fleet with an active "
                    + "deployment is left out. Answers the deployments started.")
            .returnsArrayOf(200, Deployment.class).build();
    static final Operation DELETE_SECRET = Operation.delete(NS + "/secrets/{secret}").id("deleteSecret")
            .tag("secrets").summary("Deletes a secret").returnsNothing(204).build();

    static final Operation CREATE_VOLUME = Operation.post(NS + "/volumes").id("createVolume").tag("volumes")
            .summary("Creates a volume; it lives on the node of the first machine that mounts it")
            .body(VolumeSpec.class).returns(201, Volume.class).errors(403, 409).build();
    static final Operation LIST_VOLUMES = paged(Operation.get(NS + "/volumes").id("listVolumes").tag("volumes")
            .summary("The namespace's volumes, by name"), "name", Volume.class).build();
    static final Operation GET_VOLUME = Operation.get(NS + "/volumes/{volume}").id("getVolume").tag("volumes")
            .summary("One volume").returns(200, Volume.class).build();
    static final Operation EXTEND_VOLUME = Operation.put(NS + "/volumes/{volume}/extend").id("extendVolume")
            .tag("volumes").summary("Grows a volume (never shrinks it), attached or not").body(VolumeExtend.class)
            .returns(200, Volume.class).errors(403).build();
    static final Operation DELETE_VOLUME = Operation.delete(NS + "/volumes/{volume}").id("deleteVolume")
            .tag("volumes").summary("Deletes a detached volume and its data").returnsNothing(204).errors(409).build();

    static final Operation SNAPSHOT_VOLUME = Operation.post(NS + "/volumes/{volume}/snapshots")
            .id("snapshotVolume").tag("volumes")
            .summary("Takes a snapshot of a volume, kept on its node and copied to another")
            .description("Its node copies the volume's data (with the file system frozen by the guest of a running "
                    + "machine that mounts it: a consistent copy); another node up, if any, then copies that copy, "
                    + "verified block by block (its copies and their digests are listed with it), so that it can be "
                    + "restored elsewhere when the volume's node is lost. With keep, only the newest that many "
                    + "snapshots of the volume are kept (retention).")
            .body(VolumeSnapshotSpec.class).returns(201, VolumeSnapshot.class).build();
    static final Operation DELETE_VOLUME_SNAPSHOT = Operation.delete(NS + "/volumes/{volume}/snapshots/{snapshot}")
            .id("deleteVolumeSnapshot").tag("volumes").summary("Deletes a snapshot and every copy of it")
            .returnsNothing(204).build();
    static final Operation LIST_VOLUME_SNAPSHOTS = paged(Operation.get(NS + "/volumes/{volume}/snapshots")
            .id("listVolumeSnapshots").tag("volumes").summary("A volume's snapshots, by id"), "id",
            VolumeSnapshot.class).build();
    static final Operation MOVE_VOLUME = Operation.post(NS + "/volumes/{volume}/move").id("moveVolume")
            .tag("volumes").summary("Moves a volume to another node, and its machine with it")
            .description("A verified block copy from its node to the target (the one named, or one the scheduler "
                    + "finds feasible): copied while its machine runs, the machine stopped only for the final pass of "
                    + "changed blocks, then started on the target. Its old copy goes once the new one is verified and "
                    + "recorded; a failure leaves the volume where it was. Follow it with GET …/moves.")
            .body(VolumeMoveSpec.class).returns(202, VolumeMove.class).errors(409).build();
    static final Operation LIST_VOLUME_MOVES = pagedBy(Operation.get(NS + "/volumes/{volume}/moves")
            .id("listVolumeMoves").tag("volumes").summary("A volume's moves with their steps, newest first (by "
                    + "creation, then id)"), "only moves after this one in that order (the last id of the previous "
                    + "page)", VolumeMove.class).build();

    static final Operation CREATE_FLEET = Operation.post(NS + "/fleets").id("createFleet").tag("fleets")
            .summary("Creates a fleet").body(FleetSpec.class).returns(201, Fleet.class).errors(403, 409).build();
    static final Operation LIST_FLEETS = paged(Operation.get(NS + "/fleets").id("listFleets").tag("fleets")
            .summary("The namespace's fleets, by name"), "name", Fleet.class).build();
    static final Operation GET_FLEET = Operation.get(NS + "/fleets/{fleet}").id("getFleet").tag("fleets")
            .summary("One fleet").returns(200, Fleet.class).build();
    static final Operation UPDATE_FLEET = Operation.put(NS + "/fleets/{fleet}").id("updateFleet").tag("fleets")
            .summary("Replaces a fleet's placement policy and template").body(FleetSpec.class)
            .returns(200, Fleet.class).errors(403, 409).build();
    static final Operation DELETE_FLEET = Operation.delete(NS + "/fleets/{fleet}").id("deleteFleet").tag("fleets")
            .summary("Deletes a fleet that has no machines").returnsNothing(204).errors(409).build();

    private static final String HOSTNAMES = NS + "/fleets/{fleet}/hostnames";
    static final Operation ATTACH_HOSTNAME = Operation.post(HOSTNAMES).id("attachHostname").tag("hostnames")
            .summary("Attaches a custom host name to a fleet; the gateways route it and serve the uploaded "
                    + "certificate, or get one from their ACME server (HTTP-01) when none is given")
            .description("The name must not be claimed by any namespace (409 otherwise). Wildcards are not "
                    + "supported. Point the name's DNS at the gateways before attaching it without a certificate.")
            .body(HostnameSpec.class).returns(201, Hostname.class).errors(409).build();
    static final Operation LIST_HOSTNAMES = paged(Operation.get(HOSTNAMES).id("listHostnames").tag("hostnames")
            .summary("The fleet's custom host names, by name"), "hostname", Hostname.class).build();
    static final Operation GET_HOSTNAME = Operation.get(HOSTNAMES + "/{hostname}").id("getHostname")
            .tag("hostnames").summary("One custom host name and its certificate (never its key)")
            .returns(200, Hostname.class).build();
    static final Operation UPLOAD_CERTIFICATE = Operation.put(HOSTNAMES + "/{hostname}/certificate")
            .id("uploadCertificate").tag("hostnames")
            .summary("Sets or replaces the certificate the gateways serve for a custom host name (its key is never "
                    + "shown again)").body(CertificateUpload.class).returns(200, Hostname.class).build();
    static final Operation DETACH_HOSTNAME = Operation.delete(HOSTNAMES + "/{hostname}").id("detachHostname")
            .tag("hostnames").summary("Detaches a custom host name and drops its uploaded certificate; another "
                    + "namespace may claim it then").returnsNothing(204).build();

    static final Operation LIST_RELEASES = pagedBy(Operation.get(NS + "/fleets/{fleet}/releases")
            .id("listReleases").tag("fleets").summary("The fleet's releases (versions of its machine config), newest "
                    + "first"), "only releases older than this version (the last version of the previous page)",
            Release.class).build();
    static final Operation DEPLOY = Operation.post(NS + "/fleets/{fleet}/deployments").id("deploy").tag("fleets")
            .summary("Deploys a new config or an existing release to a fleet with a count; the control plane replaces "
                    + "its machines under the strategy and rolls back on its own when new machines fail their checks")
            .body(DeploySpec.class).returns(201, Deployment.class).errors(403, 409).build();
    static final Operation LIST_DEPLOYMENTS = pagedBy(Operation.get(NS + "/fleets/{fleet}/deployments")
            .id("listDeployments").tag("fleets").summary("The fleet's deployments, newest first (by creation, then "
                    + "id)"), "only deployments after this one in that order (the last id of the previous page)",
            Deployment.class).build();
    static final Operation GET_DEPLOYMENT = Operation.get(NS + "/fleets/{fleet}/deployments/{id}")
            .id("getDeployment").tag("fleets").summary("One deployment, with the steps it took so far")
            .returns(200, Deployment.class).build();

    static final Operation CREATE_MACHINE = Operation.post(NS + "/fleets/{fleet}/machines").id("createMachine")
            .tag("machines").summary("Creates a machine in a fleet, placed on a node").body(CreateClusterMachine.class)
            .returns(201, ClusterMachine.class).errors(403, 409).build();
    /** The query parameters {@code metadata.KEY=VALUE}, as the document names them. */
    static final String METADATA = "metadata.KEY";
    private static final String METADATA_FILTER = "only machines whose config.metadata has KEY set to this value; "
            + "several such parameters must all match";
    static final Operation LIST_FLEET_MACHINES = paged(Operation.get(NS + "/fleets/{fleet}/machines")
            .id("listFleetMachines").tag("machines").summary("The fleet's machines, by id")
            .query("state", "string", "only machines in these " + STATES).query(METADATA, "string", METADATA_FILTER),
            "id", ClusterMachine.class).build();
    static final Operation LIST_MACHINES = paged(Operation.get(NS + "/machines").id("listMachines").tag("machines")
            .summary("The namespace's machines, by id").query("fleet", "string", "only this fleet's machines")
            .query("state", "string", "only machines in these " + STATES).query(METADATA, "string", METADATA_FILTER),
            "id", ClusterMachine.class).build();
    static final Operation GET_MACHINE = Operation.get(NS + "/machines/{id}").id("getMachine").tag("machines")
            .summary("One machine").returns(200, ClusterMachine.class).build();
    static final Operation UPDATE_MACHINE = Operation.post(NS + "/machines/{id}").id("updateMachine").tag("machines")
            .summary("Gives a machine a new config under its id (an in-place update)")
            .description("The body's config lies over the machine's current one (a field set replaces the whole "
                    + "field, env merges key by key). Its node replaces the machine: a running one is stopped and "
                    + "boots again from the new config, on the same node, keeping its id and name; its version goes "
                    + "up by one. mounts cannot change. Refused when its node cannot hold the new size or ports "
                    + "(failed_precondition) or the namespace's quota has no room (quota_exceeded).")
            .body(UpdateClusterMachine.class).returns(200, ClusterMachine.class).errors(403, 409).build();
    static final Operation START_MACHINE = Operation.post(NS + "/machines/{id}/start").id("startMachine")
            .tag("machines").summary("Starts a machine, or resumes a suspended one on its node")
            .returns(200, ClusterMachine.class).errors(409).build();
    static final Operation SUSPEND_MACHINE = Operation.post(NS + "/machines/{id}/suspend").id("suspendMachine")
            .tag("machines").summary("Suspends a running machine: its node saves its memory and device state and ends "
                    + "its VMM, keeping its share of the node; a start resumes it there")
            .description("Returns at once with desired_state suspended; state becomes suspended once its node has "
                    + "saved it. A machine with secrets is refused (its memory, which holds them, would be written to "
                    + "its node's disk). A suspended machine moved off its node (drain, node loss) boots cold at its "
                    + "next start.")
            .returns(200, ClusterMachine.class).errors(409).build();
    static final Operation FORK_MACHINE = Operation.post(NS + "/machines/{id}/fork").id("forkMachine")
            .tag("machines").summary("Makes count new machines from a live snapshot of a running one, which runs on")
            .description("The clones are placed on the source's node (where its snapshot is taken), are checked "
                    + "against the namespace's quota as creates are, and resume the source's memory and processes "
                    + "there, each with its own id, name, address, MAC, hostname and machine-id and a reseeded kernel "
                    + "RNG; their drives are copy-on-write views of the source's as it was. A machine with secrets or "
                    + "volumes is refused. Returns the clones at once; their state becomes running once their node has "
                    + "resumed them.")
            .body(ForkMachineRequest.class).returnsArrayOf(201, ClusterMachine.class).errors(409).build();
    static final Operation STOP_MACHINE = Operation.post(NS + "/machines/{id}/stop").id("stopMachine")
            .tag("machines").summary("Stops a machine (an empty body: its configured signal and timeout)")
            .body(MachineSpec.Stop.class).returns(200, ClusterMachine.class).errors(409).build();
    static final Operation DELETE_MACHINE = Operation.delete(NS + "/machines/{id}").id("deleteMachine")
            .tag("machines").summary("Deletes a machine").returnsNothing(204).errors(409).build();
    static final Operation WAIT_MACHINE = Operation.get(NS + "/machines/{id}/wait").id("waitMachine")
            .tag("machines").summary("Waits until the machine is in one of the states")
            .query("state", "string", "the " + STATES + " to wait for (required)")
            .query("timeout_s", "integer", "seconds to wait, 0 to 3600 (default 60)")
            .returns(200, ClusterMachine.class).errors(408).build();
    static final Operation MACHINE_LOGS = Operation.get(NS + "/machines/{id}/logs").id("getMachineLogs")
            .tag("machines").summary("The machine's logs, from its node")
            .query("follow", "boolean", "keep streaming while the machine runs")
            .query("tail", "integer", "only the last lines")
            .query("since", "string", "only lines from this time (RFC 3339 or Unix seconds)")
            .query("timestamps", "boolean", "prefix each line with its time")
            .query("source", "string", "workload (default) or console")
            .returnsText(200, "text/plain").errors(503).build();
    static final Operation MACHINE_EVENTS = Operation.get(NS + "/machines/{id}/events").id("listMachineEvents")
            .tag("machines").summary("The machine's life events, from its node")
            .returnsArrayOf(200, MachineEvent.class).errors(503).build();
    static final Operation MACHINE_STATS = Operation.get(NS + "/machines/{id}/stats").id("getMachineStats")
            .tag("machines").summary("What the machine uses: CPU, memory, network and disk, now and over a past "
                    + "window, from its node")
            .query("window_s", "integer", "seconds of past samples (taken every 10 s) to return besides the current "
                    + "one, 0 to 3600 (default 0)")
            .returns(200, MachineStats.class).errors(503).build();
    static final Operation EXEC = Operation.post(NS + "/machines/{id}/exec").id("execInMachine").tag("machines")
            .summary("Runs a command in the machine and returns its output")
            .description("For an interactive session, open a WebSocket on the same path (see README, exec); a "
                    + "WebSocket on GET …/machines/{id}/attach is attached to the machine's workload itself, its "
                    + "stdin and terminal when its init opens them (see README, run -it).")
            .body(ExecRequest.class).returns(200, ExecResult.class).errors(409, 503).build();
    /**
     * The attach WebSocket ({@code bolero run -it}), for the audit log: a WebSocket, not an HTTP operation, so it is
     * described in {@link #EXEC}'s description and left out of the document.
     */
    static final Operation ATTACH = Operation.get(NS + "/machines/{id}/attach").id("attachToMachine")
            .tag("machines").summary("Attaches a WebSocket to the machine's workload")
            .unpublished().build();

    /** The query parameters of an audit log's list; {@code example} is one of its actions. */
    private static Operation.Builder auditQuery(Operation.Builder list, String example) {
        return list.query("since", "string", "only entries from this time (RFC 3339 or Unix seconds)")
                .query("until", "string", "only entries before this time (RFC 3339 or Unix seconds)")
                .query("action", "string", "only entries of this operation id, e.g. " + example)
                .query("cursor", "integer", "only entries after this seq (the last seq of the previous page)")
                .query("limit", "integer", LIMIT)
                .returnsArrayOf(200, AuditEntry.class);
    }

    static final Operation LIST_AUDIT = auditQuery(Operation.get(NS + "/audit").id("listAudit").tag("audit")
            .summary("The namespace's audit log, oldest first")
            .description("Each entry's hash chains it to the one before (see the README, audit log); a chain is "
                    + "verified from its first entry, as bolero audit verify does."), "createMachine").build();
    static final Operation LIST_CLUSTER_AUDIT = auditQuery(Operation.get("/v1/audit").id("listClusterAudit")
            .tag("audit").summary("The audit log of calls on the cluster's own objects (namespaces, nodes), oldest "
                    + "first (admin)"), "drainNode").errors(403).build();

    static final Operation LIST_NODES = paged(Operation.get("/v1/nodes").id("listNodes").tag("nodes")
            .summary("The cluster's nodes, by id"), "id", NodeInfo.class).errors(403).build();
    static final Operation GET_NODE = Operation.get("/v1/nodes/{id}").id("getNode").tag("nodes")
            .summary("One node").returns(200, NodeInfo.class).errors(403).build();
    static final Operation CORDON = Operation.post("/v1/nodes/{id}/cordon").id("cordonNode").tag("nodes")
            .summary("Places no new machines on the node").returns(200, NodeInfo.class).errors(403).build();
    static final Operation UNCORDON = Operation.post("/v1/nodes/{id}/uncordon").id("uncordonNode").tag("nodes")
            .summary("Places machines on the node again").returns(200, NodeInfo.class).errors(403).build();
    static final Operation DRAIN = Operation.post("/v1/nodes/{id}/drain").id("drainNode").tag("nodes")
            .summary("Moves the node's machines elsewhere").returns(200, NodeInfo.class).errors(403).build();

    static final Operation REMOVE_NODE = Operation.delete("/v1/nodes/{id}").id("removeNode").tag("nodes")
            .summary("Removes a node from the cluster for good")
            .description("Only a node that is down, cordoned or draining and holds no machines or volumes (409 "
                    + "otherwise): its credential stops working and its private-network peers drop it. Its agent, once "
                    + "its credential has been refused for its fence deadline, leaves the private network (its link "
                    + "goes) and stops reconciling; stop it. To bring the host back, join it again as a new node.")
            .returnsNothing(204).errors(403, 409).build();

    static final Operation JOIN = Operation.post("/v1/nodes/join").id("joinNode").tag("protocol")
            .summary("A node joins with the join token").body(JoinRequest.class).returns(201, JoinResponse.class)
            .unpublished().build();
    static final Operation ASSIGNMENTS = Operation.get("/v1/nodes/{id}/assignments").id("pollAssignments")
            .tag("protocol").summary("A node's long poll for its machines").query("index", "integer", "last seen")
            .query("wait_s", "integer", "seconds to wait").returns(200, Assignments.class).unpublished().build();
    static final Operation REPORT_AND_POLL = Operation.post("/v1/nodes/{id}/assignments").id("reportAndPoll")
            .tag("protocol").summary("A node's report, then its long poll for its machines: 204 when the wait ends "
                    + "with the index unchanged").body(Heartbeat.class).query("index", "integer", "last seen")
            .query("wait_s", "integer", "seconds to wait").returns(200, Assignments.class).unpublished().build();
    static final Operation HEARTBEAT = Operation.post("/v1/nodes/{id}/heartbeat").id("heartbeat").tag("protocol")
            .summary("A node's report").body(Heartbeat.class).returns(200, HeartbeatResponse.class)
            .unpublished().build();
    static final Operation STREAM_ANSWER = Operation.post("/v1/nodes/{id}/streams/{stream}").id("answerStream")
            .tag("protocol").summary("A node's answer to a stream request").rawBody("application/octet-stream")
            .returnsNothing(204).unpublished().build();
    static final Operation VOLUME_MOVE_BLOCKS = Operation.get("/v1/nodes/{id}/volume-moves/{move}/blocks")
            .id("pullVolumeBlocks").tag("protocol").summary("A pass of a volume moving to the node, from its node")
            .query("pass", "integer", "the pass the move asks for").returnsText(200, "application/octet-stream")
            .unpublished().build();
    static final Operation VOLUME_MOVE_REPORT = Operation.post("/v1/nodes/{id}/volume-moves/{move}")
            .id("reportVolumeMove").tag("protocol").summary("The target node's account of a pass")
            .body(VolumeMoveReport.class).returns(200, VolumeMoveReport.class).unpublished().build();

    static final Operation SNAPSHOT_COPY_BLOCKS = Operation.get("/v1/nodes/{id}/snapshot-copies/{copy}/blocks")
            .id("pullSnapshotBlocks").tag("protocol").summary("A snapshot the node copies, from the node it was taken on")
            .returnsText(200, "application/octet-stream").unpublished().build();
    static final Operation SNAPSHOT_COPY_REPORT = Operation.post("/v1/nodes/{id}/snapshot-copies/{copy}")
            .id("reportSnapshotCopy").tag("protocol").summary("The node's account of its copy of a snapshot")
            .body(VolumeMoveReport.class).returns(200, VolumeMoveReport.class).unpublished().build();

    private static final String ROUTES_VERSION = "the version the caller holds: the answer waits until the routes "
            + "differ from it (or wait_s passes); absent: answer at once";
    private static final String ROUTES_WAIT = "seconds to wait for a change, 0 to 300 (default 30)";
    static final Operation GATEWAY_ROUTES = Operation.get("/v1/gateway/routes").id("getGatewayRoutes")
            .tag("gateway").summary("Every namespace's HTTP routes, as the gateways follow them (admin)")
            .query("version", "string", ROUTES_VERSION).query("wait_s", "integer", ROUTES_WAIT)
            .returns(200, GatewayRoutes.class).errors(403).build();
    static final Operation GATEWAY_CERTIFICATE = Operation.get("/v1/gateway/certificates/{hostname}")
            .id("getGatewayCertificate").tag("gateway")
            .summary("A custom host name's uploaded certificate with its private key, for the gateways (admin)")
            .returns(200, GatewayCertificate.class).errors(403).build();
    static final Operation JOIN_GATEWAY_MESH = Operation.post("/v1/gateway/mesh").id("joinGatewayMesh")
            .tag("gateway").summary("A gateway registers (or renews) its WireGuard key and endpoint in the private "
                    + "network's mesh and gets its address and the nodes as peers (admin)")
            .body(NodeLink.class).returns(200, GatewayMembership.class).errors(400, 403).build();
    static final Operation LEAVE_GATEWAY_MESH = Operation.delete("/v1/gateway/mesh/{id}").id("leaveGatewayMesh")
            .tag("gateway").summary("A gateway leaves the mesh: the nodes drop its peer (admin)")
            .returnsNothing(204).errors(403, 404).build();
    static final Operation NAMESPACE_ROUTES = Operation.get(NS + "/routes").id("getNamespaceRoutes")
            .tag("gateway").summary("The namespace's HTTP routes")
            .query("version", "string", ROUTES_VERSION).query("wait_s", "integer", ROUTES_WAIT)
            .returns(200, GatewayRoutes.class).build();

    /** Every operation, in the order of the document. */
    static final List<Operation> ALL = Stream.concat(Stream.of(OPENAPI, STATUS, CREATE_NAMESPACE,
            LIST_NAMESPACES, GET_NAMESPACE, CREATE_TOKEN, LIST_TOKENS, REVOKE_TOKEN, GET_QUOTA, SET_QUOTA, CREATE_SECRET, LIST_SECRETS,
            GET_SECRET, PUT_SECRET, ROLL_SECRET, DELETE_SECRET, CREATE_VOLUME, LIST_VOLUMES, GET_VOLUME, EXTEND_VOLUME,
            DELETE_VOLUME, SNAPSHOT_VOLUME, LIST_VOLUME_SNAPSHOTS, DELETE_VOLUME_SNAPSHOT, MOVE_VOLUME, LIST_VOLUME_MOVES, CREATE_FLEET,
            LIST_FLEETS, GET_FLEET, UPDATE_FLEET,
            DELETE_FLEET, ATTACH_HOSTNAME, LIST_HOSTNAMES, GET_HOSTNAME, UPLOAD_CERTIFICATE, DETACH_HOSTNAME,
            LIST_RELEASES, DEPLOY, LIST_DEPLOYMENTS, GET_DEPLOYMENT, CREATE_MACHINE,
            LIST_FLEET_MACHINES, LIST_MACHINES, GET_MACHINE, UPDATE_MACHINE, START_MACHINE, SUSPEND_MACHINE, FORK_MACHINE,
            STOP_MACHINE, DELETE_MACHINE,
            WAIT_MACHINE, MACHINE_LOGS, MACHINE_EVENTS, MACHINE_STATS, EXEC, LIST_AUDIT, LIST_CLUSTER_AUDIT,
            LIST_NODES, GET_NODE, CORDON, UNCORDON, DRAIN, REMOVE_NODE, JOIN,
            ASSIGNMENTS, REPORT_AND_POLL, HEARTBEAT, STREAM_ANSWER, VOLUME_MOVE_BLOCKS, VOLUME_MOVE_REPORT, SNAPSHOT_COPY_BLOCKS,
            SNAPSHOT_COPY_REPORT, GATEWAY_ROUTES, GATEWAY_CERTIFICATE, JOIN_GATEWAY_MESH, LEAVE_GATEWAY_MESH,
            NAMESPACE_ROUTES),
            Telemetry.OPERATIONS.stream())
            .toList();
}
