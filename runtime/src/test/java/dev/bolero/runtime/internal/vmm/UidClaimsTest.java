package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.runtime.VmmException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Claims record their claimant; abandoned ones are reclaimed, held ones never; a release takes only its own. */
class UidClaimsTest {
    @TempDir Path dir;

    /** A uid no process of this host runs with, as tests here are not root-only. */
    private static final int FIRST = 1_900_000_000;

    @Test
    void aClaimRecordsTheMachineItsJailAndTheLiveClaimantAndIsKeptByAReclaim() throws Exception {
        UidClaims claims = new UidClaims(dir.resolve("uids"), FIRST, 4);
        int uid = claims.claim("m1", "/w/m1/jail");

        assertThat(Files.readString(claims.file(uid))).startsWith("machine=m1\nroot=/w/m1/jail\nclaimant="
                + ProcessHandle.current().pid() + ":");
        assertThat(claims.reclaim()).as("its claimant (this JVM) lives").isEmpty();
        assertThat(claims.claims()).extracting(UidClaims.Claim::machineId).containsExactly("m1");
    }

    @Test
    void aClaimWhoseClaimantIsGoneAndWhoseUidNoProcessRunsIsReclaimed() throws Exception {
        UidClaims claims = new UidClaims(dir.resolve("uids"), FIRST, 4);
        Process dead = new ProcessBuilder("true").start();
        long ticks = HostProcesses.startTicks(dead.pid()).orElse(1);
        dead.waitFor();
        Files.createDirectories(dir.resolve("uids"));
        Files.writeString(claims.file(FIRST + 2), "machine=gone\nroot=/w/gone/jail\nclaimant=" + dead.pid() + ":"
                + ticks + "\n");
        Files.writeString(claims.file(FIRST + 3), "/w/old-agent/jail\n"); // an older agent's: no claimant

        assertThat(claims.reclaim()).containsExactlyInAnyOrder(FIRST + 2, FIRST + 3);
        assertThat(claims.claims()).isEmpty();
    }

    @Test
    void aFullRangeReclaimsAbandonedClaimsBeforeGivingUp() throws Exception {
        UidClaims claims = new UidClaims(dir.resolve("uids"), FIRST, 1);
        Files.createDirectories(dir.resolve("uids"));
        Files.writeString(claims.file(FIRST), "machine=gone\nroot=/w/gone/jail\nclaimant=2147483647:1\n");

        assertThat(claims.claim("m2", "/w/m2/jail")).isEqualTo(FIRST);
        assertThatThrownBy(() -> claims.claim("m3", "/w/m3/jail")).isInstanceOf(VmmException.class)
                .hasMessage("claim a jail uid for machine m3: all 1 uids from " + FIRST + " are in use");
    }

    @Test
    void aReleaseTakesBackOnlyTheClaimMadeForItsJail() throws Exception {
        UidClaims claims = new UidClaims(dir.resolve("uids"), FIRST, 1);
        int uid = claims.claim("m2", "/w/m2/jail");

        UidClaims.release(claims.file(uid), Path.of("/w/m1/jail")); // reclaimed from m1 and given to m2 meanwhile
        assertThat(claims.file(uid)).exists();
        UidClaims.release(claims.file(uid), Path.of("/w/m2/jail"));
        assertThat(claims.file(uid)).doesNotExist();
        UidClaims.release(claims.file(uid), Path.of("/w/m2/jail")); // idempotent
    }
}
