package dev.lstm4j;

import dev.lstm4j.nn.Activation;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelSpecTest {
    @Test
    void lineAndBuilderSayTheSame() {
        ModelSpec a = ModelSpec.parse(" emb>lstm > last > fc1 > ReLU > drop > fc2 ");
        ModelSpec b = ModelSpec.builder().embedding("emb").lstm("lstm").readout(Readout.LAST).layer("fc1").activation(Activation.RELU)
                .activation(Activation.DROPOUT).layer("fc2").build();
        assertEquals(a, b);
        assertEquals("emb > lstm > last > fc1 > relu > dropout > fc2", a.toString());
        assertEquals(a, ModelSpec.parse(a.toString()));
        assertEquals("emb", a.embedding());
        assertEquals(List.of("fc1", "relu", "dropout", "fc2"), a.head());
    }

    @Test
    void aLoneLstmReadsEveryStep() {
        ModelSpec s = ModelSpec.parse("encoder.lstm");
        assertNull(s.embedding());
        assertEquals(Readout.ALL, s.readout());
        assertEquals("encoder.lstm > all", s.toString());
    }

    @Test
    void epsIsWrittenOnTheName() {
        ModelSpec s = ModelSpec.parse("lstm > mean > ln(eps=1e-6) > fc");
        assertEquals(1e-6, ModelSpec.eps(s.head().get(0), 1e-5));
        assertEquals("ln", ModelSpec.baseName(s.head().get(0)));
    }

    @Test
    void mistakesAreNamed() {
        assertTrue(fails("lstm > fc").contains("no readout"));
        assertTrue(fails("lstm > last > fc > hn").contains("two readouts"));
        assertTrue(fails("a > b > c > last > fc").contains("must follow the LSTM"));
        assertTrue(fails("relu > last").contains("keyword"));
        assertTrue(fails("lstm > > last").contains("empty step"));
        assertTrue(fails("").contains("empty"));
        assertTrue(fails("lstm > last > f c").contains("not a name"));
    }

    private static String fails(String spec) {
        return assertThrows(ModelException.class, () -> ModelSpec.parse(spec)).getMessage();
    }
}
