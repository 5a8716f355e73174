package dev.bolero.cli;

import dev.bolero.api.ApiJson;
import dev.bolero.client.ClientException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/** {@code bolero images …}: the images of one node, through its node API. */
@Command(name = "images", mixinStandardHelpOptions = true, description = "Manage a node's images.",
        subcommands = {ImagesCommand.List.class, ImagesCommand.Pull.class, ImagesCommand.Import.class,
                ImagesCommand.Remove.class, ImagesCommand.Gc.class})
final class ImagesCommand {
    @Option(names = "--node", defaultValue = "${env:BOLERO_NODE:-http://127.0.0.1:7070}",
            description = "the node API (default ${DEFAULT-VALUE}; env BOLERO_NODE)")
    String node;

    private final HttpClient http = HttpClient.newHttpClient();

    /** Sends a request; a non-2xx answer becomes a {@link CliException} with the API's message. */
    HttpResponse<InputStream> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpRequest built = request.build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(built, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new CliException(built.method() + " " + built.uri() + ": cannot reach the node: "
                    + ClientException.cause(e));
        }
        if (response.statusCode() / 100 != 2) {
            byte[] body;
            try (InputStream in = response.body()) {
                body = in.readAllBytes();
            }
            String message = new String(body, StandardCharsets.UTF_8);
            try {
                message = ApiJson.mapper().readTree(body).path("error").path("message").asString(message);
            } catch (RuntimeException e) {
                // not an API error body: show it as it is
            }
            throw new CliException(message);
        }
        return response;
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(node.replaceAll("/+$", "") + path));
    }

    static JsonNode json(HttpResponse<InputStream> response) throws IOException {
        try (InputStream in = response.body()) {
            return ApiJson.mapper().readTree(in);
        }
    }

    static String describe(JsonNode image) {
        return String.format("%s  %s  %d MiB%s", image.path("digest").asString(""), image.path("references"),
                image.path("root_drive_bytes").asLong() >> 20,
                image.path("machines").isEmpty() ? "" : "  used by " + image.path("machines"));
    }

    /** A failure to report as one line, exit status 1. */
    static final class CliException extends RuntimeException {
        CliException(String message) {
            super(message);
        }
    }

    /** Runs {@code body}, printing a {@link CliException} as {@code error: MESSAGE} with status 1. */
    static int run(Callable<Integer> body) throws Exception {
        try {
            return body.call();
        } catch (CliException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List the node's images.")
    static final class List implements Callable<Integer> {
        @ParentCommand
        ImagesCommand parent;

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                for (JsonNode image : json(parent.send(parent.request("/api/v1/images").GET()))) {
                    System.out.println(describe(image));
                }
                return 0;
            });
        }
    }

    @Command(name = "pull", mixinStandardHelpOptions = true,
            description = "Pull an image and build its root drive; shows progress per layer.")
    static final class Pull implements Callable<Integer> {
        @ParentCommand
        ImagesCommand parent;

        @Parameters(paramLabel = "IMAGE", description = "a reference, e.g. busybox or 127.0.0.1:5000/app:1")
        String image;

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                byte[] body = ApiJson.mapper().writeValueAsBytes(Map.of("image", image));
                HttpResponse<InputStream> response = parent.send(parent.request("/api/v1/images/pull?progress=true")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
                PullProgress progress = new PullProgress(System.out, System.console() != null && System.console().isTerminal());
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                    for (String line; (line = lines.readLine()) != null; ) {
                        JsonNode event = ApiJson.mapper().readTree(line);
                        if (event.has("error")) throw new CliException(event.path("error").path("message").asString(""));
                        if (event.has("image")) {
                            progress.finish();
                            System.out.println(describe(event.path("image")));
                            return 0;
                        }
                        progress.on(event);
                    }
                }
                throw new CliException("pull " + image + ": the node closed the progress stream before the result");
            });
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Import an OCI image layout or a docker save archive. A file is uploaded; a directory is "
                    + "read by the node itself (it must be on the node).")
    static final class Import implements Callable<Integer> {
        @ParentCommand
        ImagesCommand parent;

        @Parameters(paramLabel = "PATH", description = "a .tar (OCI layout or docker save) or an OCI layout directory")
        Path path;

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                Path absolute = path.toAbsolutePath();
                HttpRequest.Builder request = parent.request("/api/v1/images/import");
                if (Files.isDirectory(absolute)) {
                    request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(
                            ApiJson.mapper().writeValueAsBytes(Map.of("path", absolute.toString()))));
                } else if (Files.isRegularFile(absolute)) {
                    request.header("Content-Type", "application/x-tar").POST(HttpRequest.BodyPublishers.ofFile(absolute));
                } else {
                    throw new CliException("import " + path + ": no such file or directory");
                }
                System.out.println(describe(json(parent.send(request))));
                return 0;
            });
        }
    }

    @Command(name = "rm", aliases = "delete", mixinStandardHelpOptions = true,
            description = "Delete an image (refused while a machine uses it).")
    static final class Remove implements Callable<Integer> {
        @ParentCommand
        ImagesCommand parent;

        @Parameters(paramLabel = "DIGEST", description = "the image's digest, sha256:…")
        String digest;

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                parent.send(parent.request("/api/v1/images/" + URLEncoder.encode(digest, StandardCharsets.UTF_8)).DELETE()).body().close();
                System.out.println("deleted " + digest);
                return 0;
            });
        }
    }

    @Command(name = "gc", mixinStandardHelpOptions = true, description = "Remove unreferenced blobs and leftovers.")
    static final class Gc implements Callable<Integer> {
        @ParentCommand
        ImagesCommand parent;

        @Option(names = "--unused", description = "also delete images no machine uses")
        boolean unused;

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                JsonNode result = json(parent.send(parent.request("/api/v1/images/gc" + (unused ? "?unused=true" : ""))
                        .POST(HttpRequest.BodyPublishers.noBody())));
                System.out.printf("removed %d images, %d blobs (%d MiB), %d leftovers%n", result.path("images").size(),
                        result.path("blobs").asInt(), result.path("bytes").asLong() >> 20, result.path("temporaries").asInt());
                return 0;
            });
        }
    }

    /** Renders progress lines: a bar per layer redrawn in place on a terminal, plain lines otherwise. */
    static final class PullProgress {
        private static final int BAR = 24;
        private final PrintStream out;
        private final boolean terminal;
        private final java.util.Map<String, long[]> layers = new java.util.LinkedHashMap<>();
        private final long started = System.nanoTime();
        private int drawn;

        PullProgress(PrintStream out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
        }

        void on(JsonNode event) {
            if (event.has("building")) {
                finish();
                out.printf("building root drive from %d layers%n", event.path("layers").asInt());
                return;
            }
            String layer = event.path("layer").asString("");
            long bytes = event.path("bytes").asLong();
            long size = event.path("size").asLong();
            boolean complete = event.path("complete").asBoolean();
            boolean cached = event.path("cached").asBoolean();
            long[] state = layers.computeIfAbsent(layer, k -> new long[] {System.nanoTime(), 0, 0});
            state[1] = bytes;
            state[2] = size;
            if (terminal) {
                redraw();
            } else if (complete) {
                out.println(line(layer, state, cached ? "cached" : "done"));
            } else if (bytes == 0) {
                out.println(line(layer, state, "downloading"));
            }
        }

        private void redraw() {
            if (drawn > 0) out.printf("\033[%dA", drawn);
            for (var entry : layers.entrySet()) {
                long[] s = entry.getValue();
                int filled = s[2] > 0 ? (int) Math.min(BAR, s[1] * BAR / s[2]) : 0;
                out.printf("\033[2K%s [%s%s]%n", line(entry.getKey(), s, ""), "#".repeat(filled), " ".repeat(BAR - filled));
            }
            drawn = layers.size();
            out.flush();
        }

        private static String line(String layer, long[] s, String status) {
            double seconds = Math.max(1e-3, (System.nanoTime() - s[0]) / 1e9);
            return String.format("%s  %7.1f/%.1f MB  %6.1f MB/s %s", layer.length() > 19 ? layer.substring(0, 19) : layer,
                    s[1] / 1e6, s[2] / 1e6, s[1] / 1e6 / seconds, status).stripTrailing();
        }

        void finish() {
            if (terminal && drawn > 0) {
                drawn = 0;
                out.printf("pulled %d layers in %.1f s%n", layers.size(), (System.nanoTime() - started) / 1e9);
            }
        }
    }
}
