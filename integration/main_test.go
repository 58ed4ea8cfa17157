package integration

import (
	"testing"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }
