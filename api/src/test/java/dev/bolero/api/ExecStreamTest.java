package dev.bolero.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExecStreamTest {
    private static final String ACTION = "exec in machine m1";

    @Test
    void aFirstMessageIsAnExecRequestWithTerminalFields() {
        ExecStream.Start s = ExecStream.Start.parse(
                "{\"cmd\": [\"sh\"], \"env\": {\"A\": \"b\"}, \"tty\": true, \"rows\": 50, \"cols\": 132}", ACTION);
        assertThat(s.exec().cmd()).containsExactly("sh");
        assertThat(s.exec().env()).isEqualTo(Map.of("A", "b"));
        assertThat(s.exec().timeoutS()).isNull();
        assertThat(s).extracting(ExecStream.Start::tty, ExecStream.Start::rows, ExecStream.Start::cols)
                .containsExactly(true, 50, 132);
        assertThat(ExecStream.Start.parse("{\"cmd\": [\"ls\"]}", ACTION)).isEqualTo(
                ExecStream.Start.pipes(new ExecRequest(List.of("ls"), null, null, null, null, null)));
    }

    @Test
    void aFirstMessageRoundTripsThroughItsJson() {
        var start = new ExecStream.Start(new ExecRequest(List.of("sh", "-c", "x"), Map.of("A", "b"), "/tmp", null,
                null, 5), true, 30, 100);
        assertThat(start.toJson()).doesNotContain("null");
        assertThat(ExecStream.Start.parse(start.toJson(), ACTION)).isEqualTo(start);
        var pipes = ExecStream.Start.pipes(new ExecRequest(List.of("cat"), null, null, null, "in", null));
        assertThat(pipes.toJson()).doesNotContain("tty");
        assertThat(ExecStream.Start.parse(pipes.toJson(), ACTION)).isEqualTo(pipes);
    }

    @Test
    void aBadFirstMessageIsRejectedNamingWhatIsWrong() {
        assertThatThrownBy(() -> ExecStream.Start.parse("{\"cmd\": [\"sh\"], \"ttty\": true}", ACTION))
                .isInstanceOf(ApiException.class).hasMessage(ACTION + ": unknown field 'ttty'");
        assertThatThrownBy(() -> ExecStream.Start.parse("{\"cmd\": [\"sh\"], \"rows\": 5}", ACTION))
                .hasMessage(ACTION + ": rows and cols need \"tty\": true");
        assertThatThrownBy(() -> ExecStream.Start.parse("{\"cmd\": [\"sh\"], \"tty\": true, \"cols\": 0}", ACTION))
                .hasMessage(ACTION + ": cols must be a whole number from 1 to 65535, got 0");
        assertThatThrownBy(() -> ExecStream.Start.parse("{\"cmd\": [\"sh\"], \"tty\": \"yes\"}", ACTION))
                .hasMessage(ACTION + ": tty must be true or false");
        assertThatThrownBy(() -> ExecStream.Start.parse("[1]", ACTION))
                .hasMessage(ACTION + ": the first message must be a JSON object (the exec request)");
        assertThatThrownBy(() -> ExecStream.Start.parse("{\"cmd\": [", ACTION))
                .hasMessage(ACTION + ": malformed JSON at line 1, column 10: Unexpected end-of-input: expected close marker for Array");
        assertThatThrownBy(() -> ExecStream.Start.parse("{}", ACTION))
                .hasMessage("exec: cmd must name a program");
    }

    @Test
    void aControlMessageHasExactlyOneField() {
        var json = ApiJson.mapper();
        assertThat(json.writeValueAsString(ExecStream.Control.ofResize(40, 120)))
                .isEqualTo("{\"resize\":{\"rows\":40,\"cols\":120}}");
        assertThat(json.writeValueAsString(ExecStream.Control.ofCloseStdin())).isEqualTo("{\"close_stdin\":true}");
        assertThat(ApiJson.parse("{\"signal\": \"INT\"}", ExecStream.Control.class, ACTION).signalNumber())
                .isEqualTo(2);
        assertThatThrownBy(() -> ApiJson.parse("{\"signal\": \"INT\", \"close_stdin\": true}",
                ExecStream.Control.class, ACTION))
                .hasMessage("exec control: exactly one of resize, signal, close_stdin");
        assertThatThrownBy(() -> ApiJson.parse("{\"signal\": \"NOPE\"}", ExecStream.Control.class, ACTION))
                .hasMessage("exec control: signal must be a signal name or number, got 'NOPE'");
        assertThatThrownBy(() -> ApiJson.parse("{\"resize\": {\"rows\": 0, \"cols\": 1}}", ExecStream.Control.class,
                ACTION)).hasMessage("resize: terminal size must be 1 to 65535 rows and columns, got 0x1");
        assertThatThrownBy(() -> ApiJson.parse("{\"signal\": \"INT\", \"kill\": 1}", ExecStream.Control.class,
                ACTION)).hasMessage(ACTION + ": unknown field 'kill'");
    }

    @Test
    void anOutputMessageStartsWithItsStream() {
        assertThat(ExecStream.output(ExecStream.STDERR, new byte[] {'h', 'i'})).containsExactly(2, 'h', 'i');
        assertThat(ApiJson.mapper().writeValueAsString(new ExecStream.Exit(3))).isEqualTo("{\"exit_code\":3}");
    }
}
