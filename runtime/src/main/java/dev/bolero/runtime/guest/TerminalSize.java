package dev.bolero.runtime.guest;

/**
 * The size of a command's pseudo-terminal, in character cells.
 *
 * @param rows 1 to 65535
 * @param cols 1 to 65535
 * @throws IllegalArgumentException when a dimension is out of range
 */
public record TerminalSize(int rows, int cols) {
    public TerminalSize {
        if (rows < 1 || rows > 0xffff || cols < 1 || cols > 0xffff) {
            throw new IllegalArgumentException("terminal size must be 1 to 65535 rows and columns, got " + rows + "x"
                    + cols);
        }
    }
}
