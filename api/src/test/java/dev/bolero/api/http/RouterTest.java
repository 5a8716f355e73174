package dev.bolero.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import io.javalin.Javalin;
import io.javalin.json.JavalinJackson3;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How {@link Router} reads request bodies and writes answers, on a real Javalin app over HTTP/1.1. */
class RouterTest {
    record Note(String text) {}

    private static final Operation ECHO = Operation.post("/api/echo").id("echo").tag("t").summary("Echoes a note")
            .body(Note.class).returns(200, Note.class).build();
    private static final Operation MAYBE = Operation.post("/api/maybe").id("maybe").tag("t")
            .summary("Echoes a note, or says none came").body(Note.class).returns(200, Note.class).build();
    private static final Operation BIG = Operation.get("/api/big/{length}").id("big").tag("t")
            .summary("A note this long").returns(200, Note.class).build();

    private static final Operation RELAY = Operation.post("/api/relay").id("relay").tag("t")
            .summary("Checks a note, then answers with its body as it came").body(Note.class).returns(200, Note.class)
            .build();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private Javalin app;

    @BeforeEach
    void start() {
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jsonMapper(new JavalinJackson3(ApiJson.mapper(), true));
            var router = new Router(config, List.of(ECHO, MAYBE, BIG, RELAY));
            router.handle(ECHO, ctx -> ctx.json(Router.body(ctx, Note.class, "echo")));
            router.handle(MAYBE, ctx -> ctx.json(Router.bodyOr(ctx, Note.class, "maybe", new Note("none"))));
            router.handle(BIG, ctx -> ctx.json(new Note("x".repeat(Integer.parseInt(ctx.pathParam("length"))))));
            router.handle(RELAY, ctx -> {
                Router.body(ctx, Note.class, "relay");
                ctx.contentType("application/json").result(Router.bodyText(ctx));
            });
            router.complete();
        }).start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        app.stop();
        http.close();
    }

    private HttpResponse<String> post(String path, BodyPublisher body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                .header("Content-Type", "application/json").POST(body).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code bytes} sent without a length: chunked. */
    private static BodyPublisher chunked(byte[] bytes) {
        return BodyPublishers.fromPublisher(BodyPublishers.ofByteArray(bytes));
    }

    @Test
    void aBodyIsReadWithItsLengthOrWithout() throws Exception {
        String note = "{\"text\": \"h\u00e9llo\"}";
        var sized = post("/api/echo", BodyPublishers.ofString(note));
        assertThat(sized.statusCode()).isEqualTo(200);
        assertThat(sized.body()).isEqualTo("{\"text\":\"h\u00e9llo\"}");
        var unsized = post("/api/echo", chunked(note.getBytes(StandardCharsets.UTF_8)));
        assertThat(unsized.statusCode()).isEqualTo(200);
        assertThat(unsized.body()).isEqualTo(sized.body());
    }

    @Test
    void aBodyWithoutALengthIsRefusedPastTheLimit() throws Exception {
        byte[] big = ("{\"text\": \"" + "x".repeat((int) Router.MAX_BODY) + "\"}").getBytes(StandardCharsets.UTF_8);
        var refused = post("/api/echo", chunked(big));
        assertThat(refused.statusCode()).isEqualTo(413);
        assertThat(refused.body()).contains("\"code\":\"too_large\"", "larger than 1048576 bytes");
        var sized = post("/api/echo", BodyPublishers.ofByteArray(big));
        assertThat(sized.statusCode()).isEqualTo(413);
    }

    @Test
    void bytesThatAreNotUtf8AreRefusedInTheApisWords() throws Exception {
        byte[] latin1 = "{\"text\": \"h\u00e9llo\"}".getBytes(StandardCharsets.ISO_8859_1);
        var refused = post("/api/echo", BodyPublishers.ofByteArray(latin1));
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("\"code\":\"invalid_argument\"", "echo: malformed JSON at line 1")
                .doesNotContain("java", "jackson", "Exception");
    }

    @Test
    void anOptionalBodyMayBeAbsentOrBlankButNotMalformed() throws Exception {
        assertThat(post("/api/maybe", BodyPublishers.noBody()).body()).isEqualTo("{\"text\":\"none\"}");
        assertThat(post("/api/maybe", BodyPublishers.ofString(" \n")).body()).isEqualTo("{\"text\":\"none\"}");
        assertThat(post("/api/maybe", chunked(" ".getBytes(StandardCharsets.UTF_8))).body())
                .isEqualTo("{\"text\":\"none\"}");
        assertThat(post("/api/maybe", BodyPublishers.ofString("{\"text\": \"some\"}")).body())
                .isEqualTo("{\"text\":\"some\"}");
        var malformed = post("/api/maybe", BodyPublishers.ofString("{\"text\": "));
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).contains("maybe: malformed JSON");
        var unknown = post("/api/maybe", BodyPublishers.ofString("{\"txt\": \"some\"}"));
        assertThat(unknown.body()).contains("maybe: unknown field 'txt'");
    }

    @Test
    void aBodyReadOnceIsThereToPassOnAsItCame() throws Exception {
        String note = "{ \"text\" : \"h\u00e9llo\" }";
        var relayed = post("/api/relay", BodyPublishers.ofString(note));
        assertThat(relayed.statusCode()).isEqualTo(200);
        assertThat(relayed.body()).isEqualTo(note);
    }

    @Test
    void anAnswerLargerThanTheCopyBufferArrivesWhole() throws Exception {
        for (int length : new int[] {0, Router.RESPONSE_COPY_BUFFER - 11, Router.RESPONSE_COPY_BUFFER, 1_000_000}) {
            var answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + "/api/big/"
                    + length)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.body()).isEqualTo("{\"text\":\"" + "x".repeat(length) + "\"}");
        }
    }
}
