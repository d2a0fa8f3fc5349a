package contract

// FernetAnnotation is the request schema annotation, on a top-level string
// property, that says callers are expected to send the value
// Fernet-encrypted with the virtual host's key ("x-fernet": true). It
// changes no validation: the consumer decrypts every top-level string that
// is a token for its key whatever the schema says. The docs, the generated
// clients and rabbitmq-consumer-docs lint read it.
const FernetAnnotation = "x-fernet"
