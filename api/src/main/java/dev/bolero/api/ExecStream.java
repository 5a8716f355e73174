package dev.bolero.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.ValidationException;
import java.util.Objects;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The messages of the exec WebSocket ({@code GET /api/v1/machines/{id}/exec}, upgraded):
 * <ol>
 *   <li>client → agent, first, text: a {@link Start} (an exec request with {@code tty}, {@code rows}, {@code cols});
 *   <li>client → agent, binary: bytes for the command's stdin; text: a {@link Control};
 *   <li>agent → client, binary: one {@link #STDOUT} or {@link #STDERR} byte, then output bytes (on a terminal all
 *       output is stdout);
 *   <li>agent → client, last, text: an {@link Exit}, or an {@link ApiError}, then the close.
 * </ol>
 * A message, text or binary, holds at most {@link #MAX_MESSAGE} bytes (so a first message's {@code stdin} up to
 * about that much); a larger one closes the socket with {@code 1009} (message too big) and a reason naming the limit.
 * Output comes only as fast as the client reads it: a client that stops reading holds the command back.
 */
public final class ExecStream {
    /** The largest message, text or binary, the node's and the control plane's exec sockets accept: 1 MiB. */
    public static final int MAX_MESSAGE = 1 << 20;
    /** The first byte of an output message holding stdout. */
    public static final byte STDOUT = 1;
    /** The first byte of an output message holding stderr. */
    public static final byte STDERR = 2;

    private ExecStream() {}

    /**
     * The first message: what to run, and whether on a terminal.
     *
     * @param exec the command; its {@code timeout_s}, when given, kills it after that many seconds (absent: no limit)
     * @param tty run on a pseudo-terminal
     * @param rows its initial height (default 24); only with tty
     * @param cols its initial width (default 80); only with tty
     * @throws ApiException {@code invalid_argument} when a dimension is out of 1–65535
     */
    public record Start(ExecRequest exec, boolean tty, int rows, int cols) {
        public Start {
            Objects.requireNonNull(exec, "exec");
            checkSize(rows, cols);
        }

        /** A command on pipes. */
        public static Start pipes(ExecRequest exec) {
            return new Start(exec, false, 24, 80);
        }

        /**
         * Parses a first message strictly: the fields of {@link ExecRequest} and {@code tty}, {@code rows},
         * {@code cols}.
         *
         * @param action what is asked, to start error messages ({@code exec in machine X})
         * @throws ApiException {@code invalid_argument} naming the unknown field or bad value, or for malformed JSON
         */
        public static Start parse(String json, String action) {
            JsonNode node;
            try {
                node = ApiJson.mapper().readTree(json == null ? "" : json);
            } catch (JacksonException e) {
                throw ApiJson.refusal(action, e);
            }
            if (!(node instanceof ObjectNode fields)) {
                throw ApiException.invalid(action + ": the first message must be a JSON object (the exec request)");
            }
            JsonNode tty = fields.remove("tty");
            JsonNode rows = fields.remove("rows");
            JsonNode cols = fields.remove("cols");
            if (tty != null && !tty.isBoolean()) throw ApiException.invalid(action + ": tty must be true or false");
            boolean onTty = tty != null && tty.booleanValue();
            if (!onTty && (rows != null || cols != null)) {
                throw ApiException.invalid(action + ": rows and cols need \"tty\": true");
            }
            ExecRequest exec = ApiJson.parse(fields.toString(), ExecRequest.class, action);
            return new Start(exec, onTty, dimension(rows, 24, "rows", action), dimension(cols, 80, "cols", action));
        }

        /** The message as sent: the request's fields (nulls left out) and {@code tty}, {@code rows}, {@code cols}. */
        public String toJson() {
            ObjectNode node = ApiJson.mapper().valueToTree(exec);
            node.properties().removeIf(e -> e.getValue().isNull());
            if (tty) node.put("tty", true).put("rows", rows).put("cols", cols);
            return node.toString();
        }

        private static int dimension(JsonNode v, int dflt, String name, String action) {
            if (v == null) return dflt;
            if (!v.isInt() || v.intValue() < 1 || v.intValue() > 0xffff) {
                throw ApiException.invalid(action + ": " + name + " must be a whole number from 1 to 65535, got " + v);
            }
            return v.intValue();
        }
    }

    /**
     * A control message from the client; exactly one field is set.
     *
     * @param resize the terminal's new size (ignored without a terminal)
     * @param signal a signal name ({@code INT}, {@code SIGTERM}) or number, for the command's process group (on a
     *     terminal: every process of its session)
     * @param closeStdin true: the command's stdin ends once the input sent before is written (on a terminal this does
     *     nothing: send {@code ^D} or {@code exit} as input)
     * @throws ApiException {@code invalid_argument} when not exactly one is set, or a value is bad
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Control(Size resize, String signal, Boolean closeStdin) {
        public Control {
            int set = (resize != null ? 1 : 0) + (signal != null ? 1 : 0) + (closeStdin != null ? 1 : 0);
            if (set != 1) throw ApiException.invalid("exec control: exactly one of resize, signal, close_stdin");
            if (closeStdin != null && !closeStdin) throw ApiException.invalid("exec control: close_stdin must be true");
            if (signal != null) {
                try {
                    new MachineSpec.Stop(signal, null).check(FieldPath.root());
                } catch (ValidationException e) {
                    throw ApiException.invalid("exec control: " + e.getMessage());
                }
            }
        }

        public static Control ofResize(int rows, int cols) {
            return new Control(new Size(rows, cols), null, null);
        }

        public static Control ofSignal(String signal) {
            return new Control(null, signal, null);
        }

        public static Control ofCloseStdin() {
            return new Control(null, null, true);
        }

        /** The signal's number on Linux x86-64; only when {@link #signal} is set. */
        public int signalNumber() {
            return new MachineSpec.Stop(Objects.requireNonNull(signal, "signal"), null).signalNumber();
        }
    }

    /** A terminal size in character cells, 1–65535 each. */
    public record Size(int rows, int cols) {
        public Size {
            checkSize(rows, cols);
        }
    }

    /** The last message of a command that ran: its exit code, or 128+N when signal N ended it. */
    public record Exit(int exitCode) {}

    /** An output message: the stream byte, then {@code data}. */
    public static byte[] output(byte stream, byte[] data) {
        byte[] m = new byte[data.length + 1];
        m[0] = stream;
        System.arraycopy(data, 0, m, 1, data.length);
        return m;
    }

    private static void checkSize(int rows, int cols) {
        if (rows < 1 || rows > 0xffff || cols < 1 || cols > 0xffff) {
            throw ApiException.invalid("terminal size must be 1 to 65535 rows and columns, got " + rows + "x" + cols);
        }
    }
}
