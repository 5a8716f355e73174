package dev.bolero.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bolero.api.ApiJson;
import dev.bolero.api.http.Operation;
import dev.bolero.api.testing.ApiWords;
import dev.bolero.server.Http;
import dev.bolero.server.OneNodeCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hostile client's requests to every operation of the server's API, made from its route table (what the OpenAPI
 * document is made from): path parameters, query parameters and bodies from the fuzzer's bytes, sent with the admin
 * token to a real server (SQLite, one fake node, a namespace {@code alpha} with fleet {@code web} and a machine).
 * Every answer must be one the document describes ({@link Http#call} checks status, content type and body against
 * it), never a server error, and an error's message is in the API's words. Operations that wait or stream (long
 * polls, logs, exec, events, stats: their waits are bounded by the caller, not the input) are left out, and so is the
 * unpublished node protocol.
 *
 * <p>Without {@code JAZZER_FUZZ=1} this runs the inputs kept under its resources (regression); with it, Jazzer
 * mutates inputs for the {@code maxDuration} ({@code scripts/fuzz.sh}).
 */
class ServerApiFuzzTest {
    private static final Pattern PATH_PARAM = Pattern.compile("\\{([a-z_]+)}");
    private static final List<String> WAITING_PARAMS = List.of("wait_s", "timeout_s", "follow");
    private static final List<String> STREAMING_PATHS = List.of("/exec", "/logs", "/events", "/stats");
    private static final List<Operation> OPERATIONS = ServerRoutes.ALL.stream().filter(Operation::published)
            .filter(op -> op.query().stream().noneMatch(p -> WAITING_PARAMS.contains(p.name())))
            .filter(op -> STREAMING_PATHS.stream().noneMatch(op.path()::endsWith))
            .toList();

    /** The server every input goes to: started at the first, stopped when the JVM ends. */
    private static final class Target {
        static final OneNodeCluster CLUSTER = start();
        static final String BASE = "http://127.0.0.1:" + CLUSTER.port();

        private static OneNodeCluster start() {
            try {
                var dir = Files.createTempDirectory("bolero-api-fuzz-");
                var cluster = OneNodeCluster.start(dir);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        cluster.close();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
                return cluster;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @FuzzTest(maxDuration = "60s")
    void everyRequestIsAnsweredAsTheDocumentSays(FuzzedDataProvider data) {
        // The requests, the server's own calls (its document, its fake node) all stay on loopback.
        BugDetectors.allowNetworkConnections((host, port) -> host.equals("localhost") || host.startsWith("127."));
        Operation op = OPERATIONS.get(data.consumeInt(0, OPERATIONS.size() - 1));
        var sent = new ArrayList<String>(); // every value as sent, decoded: what an error message may quote
        String path = path(op, data, sent);
        var query = new StringJoiner("&");
        for (Operation.Param p : op.query()) {
            if (data.consumeBoolean()) query.add(encode(p.name()) + "=" + encode(value(data.consumeString(40), sent)));
        }
        if (data.consumeBoolean()) {
            query.add(encode(value(data.consumeString(10), sent)) + "=" + encode(value(data.consumeString(10), sent)));
        }
        String body = op.requests().isEmpty() ? null : value(data.consumeRemainingAsString(), sent);
        String url = Target.BASE + path + (query.length() == 0 ? "" : "?" + query);

        Http.Response r;
        try {
            r = Http.call(op.method().name(), url, OneNodeCluster.ADMIN, body);
        } catch (UncheckedIOException closed) {
            // A pooled connection the server closed after its previous answer (it closes one after a request it
            // could not parse) may be picked just before the client sees it go: once more, on a fresh one.
            r = Http.call(op.method().name(), url, OneNodeCluster.ADMIN, body);
        }

        String request = op.method() + " " + path + "?" + query + " " + body;
        assertThat(r.status()).as("%s answered %s", request, r.body()).isLessThan(500);
        if (r.status() >= 400 && r.body().startsWith("{")) {
            String message = ApiJson.mapper().readTree(r.body()).path("error").path("message").asString();
            // A message may quote what was sent, or one item of a list sent (?state=a,b) stripped: only what is left
            // once those are taken out counts. The longest first: a short value may be part of a longer one.
            var quoted = new ArrayList<String>(sent);
            for (String v : sent) {
                quoted.add(v.strip());
                for (String item : v.split(",")) quoted.add("'" + item.strip() + "'");
            }
            quoted.sort(Comparator.comparingInt(String::length).reversed());
            String own = message;
            for (String v : quoted) if (!v.isEmpty()) own = own.replace(v, "");
            // A message may also quote a part of a value (a body's unknown field), or a field path of the body's own
            // keys: a word counts only when nothing sent holds it.
            own = ApiWords.withoutEchoedPaths(own, String.join("\n", sent));
            List<String> leaks = ApiWords.leaksAbsentFrom(String.join("\n", sent));
            if (!leaks.isEmpty()) assertThat(own).as("the error of %s: %s", request, message).doesNotContain(leaks);
        }
    }

    /** The operation's path, each parameter the fixture's object or the fuzzer's string. */
    private static String path(Operation op, FuzzedDataProvider data, List<String> sent) {
        var known = Map.of("ns", "alpha", "fleet", "web", "id", Target.CLUSTER.machine());
        Matcher m = PATH_PARAM.matcher(op.path());
        var out = new StringBuilder();
        while (m.find()) {
            String value = known.containsKey(m.group(1)) && data.consumeBoolean() ? known.get(m.group(1))
                    : data.consumeString(30);
            // An empty segment makes another path (the router ignores a trailing slash), not a value of this one.
            if (value.isEmpty()) value = "-";
            m.appendReplacement(out, Matcher.quoteReplacement(encode(value(value, sent))));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** {@code value}, noted in {@code sent}. */
    private static String value(String value, List<String> sent) {
        sent.add(value);
        return value;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
