package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.cli.CliProcess.Run;
import dev.bolero.gateway.DevelopmentCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code bolero certs} as a separate process against a real control plane on SQLite. */
class CertsCommandTest {
    @RegisterExtension
    final ClusterCli cli = ClusterCli.asAdminOf("alpha");

    private Run bolero(String... args) throws Exception {
        return cli.bolero("", List.of("certs"), args);
    }

    @Test
    void addListAndRemoveHostnamesWithAnUploadedCertificateWhoseKeyIsNeverPrinted() throws Exception {
        var ca = DevelopmentCa.openOrCreate(cli.dir().resolve("tenant-ca"));
        ca.issueWildcard("example.org");
        Path cert = cli.dir().resolve("tenant-ca/example.org.pem");
        Path key = cli.dir().resolve("tenant-ca/example.org.key");
        String keyLine = Files.readAllLines(key).get(1);

        Run acme = bolero("add", "web", "api.example.org");
        assertThat(acme.exit()).as(acme.stderr()).isZero();
        assertThat(acme.stdout()).contains("api.example.org", "acme");
        Run uploaded = bolero("add", "web", "shop.example.org", "--cert", cert.toString(), "--key", key.toString());
        assertThat(uploaded.exit()).as(uploaded.stderr()).isZero();
        assertThat(uploaded.stdout()).contains("shop.example.org", "uploaded", "sha256:").doesNotContain(keyLine);
        Run replaced = bolero("add", "web", "api.example.org", "--cert", cert.toString(), "--key", key.toString());
        assertThat(replaced.exit()).as("an attached name gets the uploaded certificate: %s", replaced.stderr())
                .isZero();
        assertThat(replaced.stdout()).contains("api.example.org", "uploaded");

        Run ls = bolero("ls", "web");
        assertThat(ls.stdout()).contains("api.example.org", "shop.example.org").doesNotContain(keyLine);
        Run bad = bolero("add", "web", "*.example.org");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.stderr()).contains("wildcard host names are not supported");

        assertThat(bolero("rm", "web", "shop.example.org").exit()).isZero();
        Run missing = bolero("rm", "web", "shop.example.org");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr()).contains("fleet web has no hostname shop.example.org");
    }
}
