package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.cli.CliProcess.Run;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code bolero secrets} as a separate process against a real control plane on SQLite. */
class SecretsCommandTest {
    @RegisterExtension
    final ClusterCli cli = ClusterCli.asAdminOf("alpha");

    private Run bolero(String stdin, String... args) throws Exception {
        return cli.bolero(stdin, List.of("secrets"), args);
    }

    @Test
    void setReadsTheValueFromStandardInputAndNothingEverPrintsIt() throws Exception {
        Run set = bolero("pa55-from-stdin\n", "set", "DB_PASSWORD");
        Run again = bolero("", "set", "DB_PASSWORD", "--value", "pa55-from-flag");
        Run ls = bolero("", "ls");

        assertThat(set.exit()).as(set.stderr()).isZero();
        assertThat(set.stdout()).contains("DB_PASSWORD", "hmac-sha256:").doesNotContain("pa55");
        assertThat(again.stdout()).contains("DB_PASSWORD").doesNotContain("pa55");
        assertThat(ls.stdout()).contains("DB_PASSWORD").contains(" 2 ").doesNotContain("pa55");
        assertThat(bolero("", "rm", "DB_PASSWORD").exit()).isZero();
        Run missing = bolero("", "rm", "DB_PASSWORD");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr()).contains("no such secret");
    }
}
