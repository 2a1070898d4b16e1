"""The notifications app: consumes the notifications topic and keeps each customer's history."""
