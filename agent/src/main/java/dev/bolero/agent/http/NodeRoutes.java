package dev.bolero.agent.http;

import dev.bolero.api.wire.MachineStats;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.ForkMachineRequest;
import dev.bolero.api.Image;
import dev.bolero.api.ImageGcResult;
import dev.bolero.api.ImportImageRequest;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineEvent;
import dev.bolero.api.PullImageRequest;
import dev.bolero.core.MachineSpec;
import dev.bolero.api.http.OpenApi;
import dev.bolero.api.http.Operation;
import dev.bolero.api.http.Telemetry;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * Every operation of the node API ({@code /api/v1}), declared once: {@link NodeApi} and {@link ImageRoutes} register
 * a handler for each, and the document served at {@code /api/v1/openapi.json} is built from them.
 */
final class NodeRoutes {
    private NodeRoutes() {}

    private static final String MACHINE = "/api/v1/machines/{id}";
    private static final String STATES = "machine states, comma-separated (created, starting, running, stopping, "
            + "stopped, failed, suspended, destroyed)";

    static final OpenApi.Info INFO = new OpenApi.Info("Bolero node agent", "1",
            "One node's API: its machines (create, start, stop, wait, logs, events, exec, delete) and its images. "
                    + "It has no authentication: bind it to loopback or a trusted network. Errors are "
                    + "{\"error\": {\"code\", \"message\"}}.",
            false, Map.of(
                    "meta", "This document and the node's drivers",
                    "machines", "The node's machines",
                    "images", "The node's images and their root drives",
                    "volumes", "The node's volumes, as moves to other nodes read them",
                    Telemetry.TAG, Telemetry.TAG_DESCRIPTION), List.of());

    static final Operation OPENAPI = Operation.get("/api/v1/openapi.json").id("getOpenApi").tag("meta")
            .summary("This document").returns(200, ObjectNode.class).build();
    static final Operation NODE = Operation.get("/api/v1/node").id("getNode").tag("meta")
            .summary("The driver in use, its accelerator, whether VMMs are jailed, and every driver's state")
            .returns(200, NodeInfo.Node.class).build();

    static final Operation CREATE = Operation.post("/api/v1/machines").id("createMachine").tag("machines")
            .summary("Creates a machine (and starts it with \"start\": true)").body(CreateMachineRequest.class)
            .returns(201, Machine.class).errors(409).build();
    static final Operation LIST = Operation.get("/api/v1/machines").id("listMachines").tag("machines")
            .summary("The node's machines").returnsArrayOf(200, Machine.class).build();
    static final Operation GET = Operation.get(MACHINE).id("getMachine").tag("machines").summary("One machine")
            .returns(200, Machine.class).build();
    static final Operation START = Operation.post(MACHINE + "/start").id("startMachine").tag("machines")
            .summary("Starts a machine").returns(200, Machine.class).errors(409).build();
    static final Operation STOP = Operation.post(MACHINE + "/stop").id("stopMachine").tag("machines")
            .summary("Stops a machine (an empty body: its configured signal and timeout)").body(MachineSpec.Stop.class)
            .returns(200, Machine.class).errors(409).build();
    static final Operation SUSPEND = Operation.post(MACHINE + "/suspend").id("suspendMachine").tag("machines")
            .summary("Suspends a running machine: saves its memory and device state on the node and ends its VMM "
                    + "(returns once it is suspended; a start resumes it)")
            .returns(200, Machine.class).errors(409).build();
    static final Operation FORK = Operation.post(MACHINE + "/fork").id("forkMachine").tag("machines")
            .summary("Makes count new running machines from a live snapshot of a running one, which runs on; each "
                    + "clone has its own id, MAC, address, hostname and machine-id and a reseeded RNG")
            .body(ForkMachineRequest.class).returnsArrayOf(201, Machine.class).errors(409).build();
    static final Operation DELETE = Operation.delete(MACHINE).id("deleteMachine").tag("machines")
            .summary("Deletes a machine (a running one only with force)")
            .query("force", "boolean", "stop it first if it runs").returnsNothing(204).errors(409).build();
    static final Operation WAIT = Operation.get(MACHINE + "/wait").id("waitMachine").tag("machines")
            .summary("Waits until the machine is in one of the states")
            .query("state", "string", "the " + STATES + " to wait for (required)")
            .query("timeout_s", "integer", "seconds to wait, 0 to 3600 (default 60)")
            .returns(200, Machine.class).errors(408).build();
    static final Operation LOGS = Operation.get(MACHINE + "/logs").id("getMachineLogs").tag("machines")
            .summary("The machine's logs").query("follow", "boolean", "keep streaming while the machine runs")
            .query("tail", "integer", "only the last lines")
            .query("since", "string", "only lines from this time (RFC 3339 or Unix seconds)")
            .query("timestamps", "boolean", "prefix each line with its time")
            .query("source", "string", "workload (default) or console")
            .returnsText(200, "text/plain").build();
    static final Operation EVENTS = Operation.get(MACHINE + "/events").id("listMachineEvents").tag("machines")
            .summary("The machine's life events").returnsArrayOf(200, MachineEvent.class).build();
    static final Operation STATS = Operation.get(MACHINE + "/stats").id("getMachineStats").tag("machines")
            .summary("What the machine uses: CPU, memory, network and disk, now and over a past window")
            .query("window_s", "integer", "seconds of past samples (taken every 10 s) to return besides the current "
                    + "one, 0 to 3600 (default 0)").returns(200, MachineStats.class).build();
    static final Operation EXEC = Operation.post(MACHINE + "/exec").id("execInMachine").tag("machines")
            .summary("Runs a command in the machine and returns its output")
            .description("For an interactive session, open a WebSocket on the same path (see README, exec).")
            .body(ExecRequest.class).returns(200, ExecResult.class).errors(409).build();

    static final Operation IMAGES = Operation.get("/api/v1/images").id("listImages").tag("images")
            .summary("The node's images").returnsArrayOf(200, Image.class).build();
    static final Operation PULL = Operation.post("/api/v1/images/pull").id("pullImage").tag("images")
            .summary("Pulls an image and builds its root drive")
            .description("With ?progress=true the answer is a stream of JSON lines (application/x-ndjson): "
                    + "layer progress, then {\"image\": …} or {\"error\": …}.")
            .query("progress", "boolean", "stream progress as JSON lines").body(PullImageRequest.class)
            .returns(200, Image.class).returnsText(200, "application/x-ndjson").build();
    static final Operation IMPORT = Operation.post("/api/v1/images/import").id("importImage").tag("images")
            .summary("Imports an image from an OCI or docker archive: a JSON body naming a file on the node "
                    + "({\"path\": …}), or the archive itself as the body")
            .body(ImportImageRequest.class).rawBody("application/x-tar").returns(201, Image.class).build();
    static final Operation GC = Operation.post("/api/v1/images/gc").id("collectImageGarbage").tag("images")
            .summary("Removes unreferenced blobs and leftovers (and, with unused=true, images no machine uses)")
            .query("unused", "boolean", "first delete every image no machine uses")
            .returns(200, ImageGcResult.class).build();
    static final Operation IMAGE = Operation.get("/api/v1/images/{digest}").id("getImage").tag("images")
            .summary("One image").returns(200, Image.class).build();
    static final Operation DELETE_IMAGE = Operation.delete("/api/v1/images/{digest}").id("deleteImage")
            .tag("images").summary("Deletes an image no machine uses").returnsNothing(204).errors(409).build();
    static final Operation TEMPLATES = Operation.get("/api/v1/templates").id("listTemplates").tag("images")
            .summary("The node's templates: saved states warm-start machines start from, most recently used first")
            .returnsArrayOf(200, dev.bolero.api.Template.class).build();
    static final Operation VOLUME_BLOCKS = Operation.get("/api/v1/volumes/{id}/blocks").id("sendVolumeBlocks")
            .tag("volumes").summary("One pass of a moving volume's blocks (the stream VolumeBlocks describes)")
            .description("The control plane relays it to the node the volume moves to. The first pass sends every "
                    + "block; a later one of the same move those changed since the pass before.")
            .query("move", "string", "the move's id").query("pass", "integer", "the pass, from 1")
            .returnsText(200, "application/octet-stream").build();

    /** Every operation, in the order of the document. */
    static final List<Operation> ALL = java.util.stream.Stream.concat(java.util.stream.Stream.of(OPENAPI, NODE, CREATE,
            LIST, GET, START, STOP, SUSPEND, FORK, DELETE, WAIT, LOGS, EVENTS, STATS, EXEC, IMAGES, PULL, IMPORT, GC,
            IMAGE, DELETE_IMAGE, TEMPLATES, VOLUME_BLOCKS),
            Telemetry.OPERATIONS.stream()).toList();
}
