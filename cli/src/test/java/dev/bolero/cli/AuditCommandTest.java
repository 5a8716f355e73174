package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.cli.CliProcess.Run;
import java.sql.DriverManager;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code bolero audit} and {@code bolero audit verify} as separate processes against a real control plane. */
class AuditCommandTest {
    private static final Pattern HEAD = Pattern.compile("head (\\d+:[0-9a-f]{64})");

    @RegisterExtension
    final ClusterCli cli = ClusterCli.asAdminOf("alpha");

    private Run bolero(String... args) throws Exception {
        return cli.bolero("", List.of(args));
    }

    private void tamper(String sql) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + cli.dir().resolve("server/server.db"));
             var s = c.createStatement()) {
            assertThat(s.executeUpdate(sql)).isEqualTo(1);
        }
    }

    @Test
    void listsTheLogAndVerifiesItsChainFindingAlteredAndRemovedEntries() throws Exception {
        assertThat(bolero("secrets", "set", "TOKEN", "--value", "v").exit()).isZero();
        Run list = bolero("audit");
        assertThat(list.exit()).as(list.stderr()).isZero();
        assertThat(list.stdout()).contains("createFleet", "createMachine", "setSecret",
                "/v1/namespaces/alpha/secrets/TOKEN", "127.0.0.1");
        assertThat(bolero("audit", "--action", "setSecret").stdout().lines()).hasSize(2); // header and one entry
        assertThat(bolero("audit", "--cluster").stdout()).contains("createNamespace");

        Run verified = bolero("audit", "verify");
        assertThat(verified.exit()).as(verified.stderr()).isZero();
        assertThat(verified.stdout()).contains("the audit log of alpha: 3 entries verified");
        var head = HEAD.matcher(verified.stdout());
        assertThat(head.find()).isTrue();

        // the last entry removed: the chain left is whole, but no longer holds the head printed before
        tamper("DELETE FROM audit WHERE chain = 'alpha' AND seq = 3");
        assertThat(bolero("audit", "verify").exit()).isZero();
        Run cut = bolero("audit", "verify", "--head", head.group(1));
        assertThat(cut.exit()).isEqualTo(1);
        assertThat(cut.stderr()).contains("no longer holds entry 3");

        tamper("UPDATE audit SET object = '/v1/namespaces/alpha/fleets/other' WHERE chain = 'alpha' AND seq = 1");
        Run altered = bolero("audit", "verify");
        assertThat(altered.exit()).isEqualTo(1);
        assertThat(altered.stderr()).startsWith("bolero: the audit log of alpha does not verify: entry 1");
        assertThat(bolero("audit", "verify", "--action", "createFleet").exit()).isEqualTo(2);
    }
}
