/** The {@code bolero} command line. */
package dev.bolero.cli;
