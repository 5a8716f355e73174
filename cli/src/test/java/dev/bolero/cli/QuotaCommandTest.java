package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import dev.bolero.cli.CliProcess.Run;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code bolero quota} as a separate process against a real control plane on SQLite (namespace alpha has m1). */
class QuotaCommandTest {
    @RegisterExtension
    final ClusterCli cli = ClusterCli.asAdminOf("alpha");

    private Run bolero(String... args) throws Exception {
        return cli.bolero("", List.of(args));
    }

    @Test
    void setReplacesTheLimitsGetShowsThemWithTheUsageAndACreatePastOneExitsWith7() throws Exception {
        Run unset = bolero("quota", "get", "beta");
        assertThat(unset.exit()).as(unset.stderr()).isZero();
        assertThat(unset.stdout()).containsPattern("machines +0 +unlimited");

        Run set = bolero("quota", "set", "alpha", "--machines", "1", "--vcpus", "4", "--memory-mib", "2048",
                "--volumes", "2", "--volume-gib", "10");
        assertThat(set.exit()).as(set.stderr()).isZero();
        assertThat(set.stdout()).containsPattern("RESOURCE +USED +LIMIT").containsPattern("machines +1 +1")
                .containsPattern("vcpus +1 +4").containsPattern("memory_mib +512 +2048")
                .containsPattern("volumes +0 +2").containsPattern("volume_gib +0 +10");

        Run json = bolero("quota", "get", "-o", "json"); // -n's namespace
        assertThat(json.exit()).as(json.stderr()).isZero();
        var quota = ApiJson.mapper().readTree(json.stdout());
        assertThat(quota.path("namespace").asString()).isEqualTo("alpha");
        assertThat(quota.path("limits").path("volume_gib").asInt()).isEqualTo(10);

        Run tooBig = bolero("volumes", "create", "data", "--size-gb", "11");
        assertThat(tooBig.exit()).isEqualTo(7);
        assertThat(tooBig.stderr()).contains("create volume alpha/data: namespace alpha is limited to 10 GiB of "
                + "volumes; this would make it 11 (it has 0)");

        Run cleared = bolero("quota", "set", "alpha", "--volumes", "2");
        assertThat(cleared.exit()).as(cleared.stderr()).isZero();
        assertThat(cleared.stdout()).containsPattern("machines +1 +unlimited").containsPattern("volumes +0 +2");
        Run bad = bolero("quota", "set", "alpha", "--machines", "-1");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.stderr()).contains("machines must be between 0 and 1000000000, got -1");
    }
}
