package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import dev.bolero.cli.CliProcess.Run;
import dev.bolero.server.OneNodeCluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Named contexts and the JSON log format, through the CLI as separate processes. */
class ContextAndLogFormatTest {
    @TempDir
    Path dir;

    @Test
    void aContextNamesAServerTokenAndNamespaceAndTheCurrentOneIsUsedWithoutFlags() throws Exception {
        OneNodeCluster cluster = OneNodeCluster.start(dir.resolve("server"));
        try {
            String url = "http://127.0.0.1:" + cluster.port();
            Run add = CliProcess.bolero(dir, OneNodeCluster.ADMIN + "\n", "context", "add", "one", "--server", url,
                    "-n", "alpha");
            assertThat(add.exit()).as(add.stderr()).isZero();
            assertThat(CliProcess.bolero(dir, "", "context", "add", "two", "--server", "http://127.0.0.1:9",
                    "--token", "other").exit()).isZero();
            Run ls = CliProcess.bolero(dir, "", "context", "ls");
            assertThat(ls.stdout()).contains("one", url, "alpha", "two").doesNotContain(OneNodeCluster.ADMIN, "other");
            assertThat(ls.stdout().lines().filter(l -> l.startsWith("*"))).singleElement().asString()
                    .as("the first context added is current").contains("one");

            Run audit = CliProcess.bolero(dir, "", "audit", "--action", "createFleet");
            assertThat(audit.exit()).as(audit.stderr()).isZero();
            assertThat(audit.stdout()).contains("/v1/namespaces/alpha/fleets");

            assertThat(CliProcess.bolero(dir, "", "context", "use", "two").exit()).isZero();
            Run unreachable = CliProcess.bolero(dir, "", "audit");
            assertThat(unreachable.exit()).as("the current context, now two: %s", unreachable.stderr()).isEqualTo(5);
            assertThat(unreachable.stderr()).contains("127.0.0.1:9");
            assertThat(CliProcess.bolero(dir, "", "audit", "--context", "one").exit()).isZero();
            Run missing = CliProcess.bolero(dir, "", "audit", "--context", "three");
            assertThat(missing.exit()).isEqualTo(2);
            assertThat(missing.stderr()).contains("no context 'three'");
        } finally {
            cluster.close();
        }
    }

    @Test
    void aServerStartedWithLogFormatJsonWritesOneJsonObjectALineWithRfc3339Times() throws Exception {
        List<String> command = new ArrayList<>(CliProcess.javaCommand());
        command.addAll(List.of("server", "--log-format", "json", "--listen", "127.0.0.1:0", "--data-dir",
                dir.resolve("json-server").toString()));
        Process p = CliProcess.builder(dir, command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (var err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            var lines = new ArrayList<String>();
            while ((line = err.readLine()) != null) {
                lines.add(line);
                if (line.contains("listening on")) break;
            }
            assertThat(lines).as("stderr of the server").isNotEmpty().allSatisfy(l -> {
                var json = ApiJson.mapper().readTree(l);
                assertThat(Instant.parse(json.path("time").asString())).isNotNull();
                assertThat(json.path("level").asString()).isIn("INFO", "WARN", "ERROR");
                assertThat(json.path("logger").asString()).isNotBlank();
            });
            assertThat(lines.getLast()).contains("listening on");
        } finally {
            p.destroy();
            p.waitFor();
        }
    }
}
