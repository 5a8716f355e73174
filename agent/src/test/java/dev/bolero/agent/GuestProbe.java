package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.oci.testing.ImageSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * What tests of machines started from another's state (fork, templates) read of a running guest: its identity, through
 * exec; the counts its counting workload logs ({@code n=N pid=P}); the types of its events.
 */
final class GuestProbe {
    private static final Pattern COUNT = Pattern.compile("n=(\\d+) pid=(\\d+)");

    /**
     * A workload that serves HTTP on port 8080 ({@code /cgi-bin/id} answers the guest's hostname) and counts in
     * memory, logging {@code n=N pid=P} every 0.2 s.
     */
    static final ImageSpec COUNTING_WEB_SERVER = ImageSpec.cmd("sh", "-c",
            "chmod +x /www/cgi-bin/id && httpd -p 8080 -h /www && i=0; while true; do i=$((i+1)); echo n=$i pid=$$;"
                    + " sleep 0.2; done")
            .withFile("/www/cgi-bin/id", "#!/bin/sh\necho 'Content-Type: text/plain'\necho\nhostname\n");

    private GuestProbe() {}

    /** A guest's identity: hostname, machine-id, 16 bytes of {@code /dev/urandom} in hex, MAC, eth0's addresses. */
    record Identity(String hostname, String machineId, String random, String mac, String addresses) {}

    static Identity identity(AgentHarness node, String id) {
        JsonNode r = node.exec(id, "{\"cmd\": [\"sh\", \"-c\", \"hostname; cat /etc/machine-id 2>/dev/null || echo none;"
                + " head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\\\n'; echo; cat /sys/class/net/eth0/address;"
                + " ip -4 addr show eth0\"]}");
        assertThat(r.path("exit_code").asInt()).as(r.toString()).isZero();
        String[] lines = r.path("stdout").asString().split("\n", 5);
        return new Identity(lines[0], lines[1], lines[2], lines[3], lines.length > 4 ? lines[4] : "");
    }

    /** Each {@code n=N pid=P} line of the logs as {N, P}. */
    static List<long[]> counts(String logs) {
        List<long[]> out = new ArrayList<>();
        Matcher m = COUNT.matcher(logs);
        while (m.find()) out.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        return out;
    }

    /** The types of a machine's events, oldest first. */
    static List<String> types(JsonNode events) {
        List<String> types = new ArrayList<>();
        events.forEach(e -> types.add(e.path("type").asString()));
        return types;
    }
}
