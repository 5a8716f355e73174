package dev.bolero.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class QueryParamsTest {
    @Test
    void anAbsentParameterIsTheDefaultAndAWholeNumberInRangeIsItself() {
        assertThat(QueryParams.wholeNumber("tail", null, 7, 0, 10)).isEqualTo(7);
        assertThat(QueryParams.wholeNumber("tail", "0", 7, 0, 10)).isZero();
        assertThat(QueryParams.wholeNumber("tail", "10", 7, 0, 10)).isEqualTo(10);
    }

    @Test
    void anythingElseIsAnInvalidArgumentNamingTheParameterTheRangeAndTheValue() {
        for (String bad : new String[] {"11", "-1", "x", "", "1.5", "99999999999"}) {
            assertThatThrownBy(() -> QueryParams.wholeNumber("tail", bad, 7, 0, 10))
                    .isInstanceOfSatisfying(ApiException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                    .hasMessage("tail must be a whole number from 0 to 10, got '" + bad + "'");
        }
    }
}
