"""The fleet's Dapr service apps, one package each with the same anatomy."""
