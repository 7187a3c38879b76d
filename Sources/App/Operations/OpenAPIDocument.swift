/// The OpenAPI 3.1 description of every route, served at `GET /api/openapi.json`.
///
/// Kept as JSON text in the binary rather than a file under `web/` or `docs/`: the executable serves it without
/// knowing where the repository's folders are installed, it cannot go missing or drift from the deployed build,
/// and it is not also served by the static-file catch-all at another path. `OpenAPITests` parses it and compares
/// its paths and methods with the router's routes (every route documented, nothing documented that does not
/// exist). The prose reference is `docs/api.md`.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "clpr",
            "version": "1",
            "summary": "Claim intake: phone or Telegram login, wizard drafts, the claim-plan stream, confirmation.",
            "description": "JSON in and out unless stated. Errors are {\"error\":{\"code\",\"message\"}} (plus `field` when one input is at fault). Authentication is the `clpr_session` cookie. Every response carries `X-Request-Id`. See docs/api.md."
          },
          "servers": [{"url": "/"}],
          "components": {
            "securitySchemes": {
              "session": {"type": "apiKey", "in": "cookie", "name": "clpr_session"},
              "callbackSignature": {
                "type": "apiKey", "in": "header", "name": "X-Clpr-Signature",
                "description": "hex HMAC-SHA256(secret, X-Clpr-Timestamp + \".\" + body), with header X-Clpr-Timestamp (unix seconds)."
              },
              "telegramSecret": {"type": "apiKey", "in": "header", "name": "X-Telegram-Bot-Api-Secret-Token"}
            },
            "parameters": {
              "claimID": {"name": "claim_id", "in": "path", "required": true, "schema": {"type": "string"}},
              "sessionToken": {"name": "session_token", "in": "path", "required": true, "schema": {"type": "string"}},
              "documentID": {"name": "document_id", "in": "path", "required": true, "schema": {"type": "string"}}
            },
            "headers": {
              "X-Request-Id": {"description": "The request's id, also in the request's log line.", "schema": {"type": "string"}}
            },
            "schemas": {
              "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                  "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                      "code": {"type": "string", "description": "Stable English identifier."},
                      "message": {"type": "string", "description": "Russian text shown to people."},
                      "field": {"type": "string"},
                      "fields": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}
                      },
                      "attempts_left": {"type": "integer"},
                      "claim": {"$ref": "#/components/schemas/Claim"}
                    }
                  }
                }
              },
              "User": {
                "type": "object",
                "required": ["unified_id"],
                "properties": {
                  "unified_id": {"type": "string"},
                  "phone": {"type": ["string", "null"]},
                  "display_phone": {"type": ["string", "null"]}
                }
              },
              "Login": {
                "type": "object", "required": ["user"],
                "properties": {"user": {"$ref": "#/components/schemas/User"}}
              },
              "Answers": {
                "type": "object", "description": "Answers as strings keyed by question id.",
                "additionalProperties": {"type": "string"}
              },
              "Claim": {
                "type": "object",
                "required": ["claim_id", "type_code", "status", "answers", "revision"],
                "properties": {
                  "claim_id": {"type": "string"},
                  "type_code": {"type": "string"},
                  "type_title": {"type": "string"},
                  "status": {"type": "string"},
                  "is_confirmed": {"type": "boolean"},
                  "answers": {"$ref": "#/components/schemas/Answers"},
                  "revision": {"type": "integer", "format": "int64", "minimum": -9223372036854775808, "maximum": 9223372036854775807},
                  "submitted_revision": {"type": ["integer", "null"]},
                  "plan_is_current": {"type": "boolean"},
                  "session_token": {"type": ["string", "null"]},
                  "submission_id": {"type": ["string", "null"]},
                  "plan": {"type": ["object", "null"], "description": "The claim plan (docs/claim-plan.md)."},
                  "stream_url": {"type": ["string", "null"]},
                  "created_at": {"type": "string", "format": "date-time"},
                  "updated_at": {"type": "string", "format": "date-time"},
                  "status_history": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"status": {"type": "string"}, "at": {"type": "string"}}}
                  },
                  "wizard_step": {"type": ["integer", "null"], "description": "The wizard page last opened (1-based; one past the last page: check answers)."},
                  "receipt": {
                    "type": ["object", "null"],
                    "description": "The confirmation receipt (docs/api.md): SHA-256 of exactly what was shown and confirmed.",
                    "properties": {
                      "sha256": {"type": "string"}, "confirmed_at": {"type": "string", "format": "date-time"},
                      "language": {"type": "string", "enum": ["ru", "en"]}, "submission_id": {"type": "string"},
                      "document": {"type": "string", "description": "The exact text hashed (canonical JSON)."}
                    }
                  }
                }
              },
              "ClaimType": {
                "type": "object",
                "required": ["code", "title", "questions", "documents"],
                "properties": {
                  "code": {"type": "string"},
                  "title": {"type": "string"},
                  "description": {"type": "string"},
                  "questions": {"type": "array", "items": {"type": "object"}},
                  "documents": {"type": "array", "items": {"type": "object"}}
                }
              },
              "Submission": {
                "type": "object",
                "required": ["claim_id", "session_token", "submission_id", "stream_url"],
                "properties": {
                  "claim_id": {"type": "string"},
                  "session_token": {"type": "string"},
                  "submission_id": {"type": "string"},
                  "stream_url": {"type": "string"}
                }
              },
              "Document": {
                "type": "object",
                "required": ["id", "field_name", "file_name", "content_type", "size", "sha256", "uploaded_at", "download_url"],
                "properties": {
                  "id": {"type": "string"}, "field_name": {"type": "string"},
                  "file_name": {"type": "string", "description": "The person's name for the file, without path or control characters."},
                  "content_type": {"enum": ["application/pdf", "image/jpeg", "image/png", "image/heic", "image/webp"]},
                  "size": {"type": "integer"}, "sha256": {"type": "string"}, "uploaded_at": {"type": "string"},
                  "download_url": {"type": "string"}
                }
              },
              "Decision": {
                "type": "object", "required": ["submission_id"],
                "properties": {"submission_id": {"type": "string"}}
              }
            },
            "responses": {
              "Error": {
                "description": "An error: 400 invalid_json / missing_field / invalid_field, 401 unauthenticated, 403 cross_origin, 404 (unknown ids and other people's alike), 409, 410, 413 payload_too_large, 415 unsupported_media_type, 422, 429 (Retry-After), 503 database_unavailable and others (Retry-After).",
                "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Claim": {
                "description": "The claim.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Claim"}}}
              },
              "Login": {
                "description": "Signed in: the session cookie is set.",
                "headers": {"Set-Cookie": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Login"}}}
              }
            }
          },
          "paths": {
            "/healthz": {
              "get": {
                "tags": ["operations"], "summary": "The process is alive.",
                "responses": {
                  "200": {"description": "Alive.", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}}}
                }
              }
            },
            "/readyz": {
              "get": {
                "tags": ["operations"], "summary": "The database and, when configured, Redis are reachable.",
                "responses": {
                  "200": {"description": "Ready.", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ready"}, "open_streams": {"type": "integer"}, "outbox": {"type": "object"}, "redis": {"type": "string"}}}}}},
                  "503": {"description": "Not ready: `failing` names the part.", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "unavailable"}, "failing": {"enum": ["database", "redis"]}}}}}}
                }
              }
            },
            "/metrics": {
              "get": {
                "tags": ["operations"], "summary": "Prometheus text exposition format (0.0.4).",
                "responses": {"200": {"description": "Every metric.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
              }
            },
            "/api/openapi.json": {
              "get": {
                "tags": ["operations"], "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}}
              }
            },
            "/api/v1/auth/phone": {
              "post": {
                "tags": ["identity"], "summary": "Normalize the phone and send a one-time code (rate-limited).",
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}}}}}
                },
                "responses": {
                  "200": {"description": "Code sent.", "content": {"application/json": {"schema": {"type": "object", "properties": {"phone": {"type": "string"}, "display_phone": {"type": "string"}, "expires_in": {"type": "integer"}, "resend_after": {"type": "integer"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/auth/phone/verify": {
              "post": {
                "tags": ["identity"], "summary": "Check the code; sets the session cookie.",
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"type": "object", "required": ["phone", "code"], "properties": {"phone": {"type": "string"}, "code": {"type": "string"}}}}}
                },
                "responses": {
                  "200": {"$ref": "#/components/responses/Login"},
                  "400": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "410": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/auth/logout": {
              "post": {
                "tags": ["identity"], "summary": "End this session (idempotent).",
                "responses": {"204": {"description": "Cookie cleared."}, "default": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/api/v1/auth/logout-all": {
              "post": {
                "tags": ["identity"], "summary": "End every session of the person.", "security": [{"session": []}],
                "responses": {
                  "200": {"description": "Sessions ended.", "content": {"application/json": {"schema": {"type": "object", "properties": {"sessions_ended": {"type": "integer"}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/auth/telegram": {
              "post": {
                "tags": ["identity"], "summary": "Sign in with Telegram Mini App initData.",
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"type": "object", "required": ["init_data"], "properties": {"init_data": {"type": "string"}}}}}
                },
                "responses": {
                  "200": {"$ref": "#/components/responses/Login"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/telegram/webhook": {
              "post": {
                "tags": ["identity"], "summary": "Telegram bot updates.", "security": [{"telegramSecret": []}],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"description": "A Telegram Update. Anything this bot cannot read (another update type, not JSON, no body) is acknowledged 200 with outcome `ignored`: Telegram would deliver it again and again otherwise."}}}},
                "responses": {
                  "200": {"description": "Handled.", "content": {"application/json": {"schema": {"type": "object", "properties": {"ok": {"type": "boolean"}, "outcome": {"enum": ["start", "linked", "merged", "already_linked", "foreign_contact", "invalid_phone", "ignored"]}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/me": {
              "get": {
                "tags": ["identity"], "summary": "The signed-in person.", "security": [{"session": []}],
                "responses": {
                  "200": {"description": "The person.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claim-types": {
              "get": {
                "tags": ["claims"], "summary": "The catalog of claim types and their questions, in the negotiated language.",
                "parameters": [
                  {"name": "lang", "in": "query", "required": false, "description": "ru or en (a language tag such as en-GB counts as en); any other value is ignored: Accept-Language, else Russian, decides", "schema": {"type": "string"}},
                  {"name": "Accept-Language", "in": "header", "required": false, "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "The catalog.", "content": {"application/json": {"schema": {"type": "object", "properties": {"claim_types": {"type": "array", "items": {"$ref": "#/components/schemas/ClaimType"}}}}}}},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/drafts": {
              "get": {
                "tags": ["claims"], "summary": "The person's drafts, all channels, newest first, at most 20.", "security": [{"session": []}],
                "responses": {
                  "200": {"description": "Drafts.", "content": {"application/json": {"schema": {"type": "object", "properties": {"drafts": {"type": "array", "items": {"$ref": "#/components/schemas/Claim"}}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims": {
              "get": {
                "tags": ["claims"], "summary": "Every claim of the person, newest first, at most 50.", "security": [{"session": []}],
                "responses": {
                  "200": {"description": "Claims.", "content": {"application/json": {"schema": {"type": "object", "properties": {"claims": {"type": "array", "items": {"$ref": "#/components/schemas/Claim"}}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              },
              "post": {
                "tags": ["claims"], "summary": "Create an empty draft.", "security": [{"session": []}],
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"type": "object", "required": ["type_code"], "properties": {"type_code": {"type": "string"}}}}}
                },
                "responses": {
                  "201": {"$ref": "#/components/responses/Claim"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/wizard": {
              "post": {
                "tags": ["claims"], "summary": "Save and submit the wizard: the planner is asked for the claim plan.", "security": [{"session": []}],
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"type": "object", "required": ["answers"], "anyOf": [{"required": ["claim_id"]}, {"required": ["type_code"]}], "description": "The draft to submit (`claim_id`), or a new claim of `type_code`; one of the two is required.", "properties": {"claim_id": {"type": "string"}, "type_code": {"type": "string"}, "answers": {"$ref": "#/components/schemas/Answers"}, "revision": {"type": "integer", "format": "int64", "minimum": -9223372036854775808, "maximum": 9223372036854775807}}}}}
                },
                "responses": {
                  "202": {"description": "Submitted; follow `stream_url`.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}": {
              "get": {
                "tags": ["claims"], "summary": "One claim (status page data).", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "responses": {
                  "200": {"$ref": "#/components/responses/Claim"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/draft": {
              "put": {
                "tags": ["claims"], "summary": "Autosave the answers; a stale revision answers 409.", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"type": "object", "required": ["answers", "revision"], "properties": {"answers": {"$ref": "#/components/schemas/Answers"}, "revision": {"type": "integer", "format": "int64", "minimum": -9223372036854775808, "maximum": 9223372036854775807}}}}}
                },
                "responses": {
                  "200": {"$ref": "#/components/responses/Claim"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/confirmation": {
              "get": {
                "tags": ["claims"], "summary": "The confirmation document for the sandboxed iframe (strict CSP).", "security": [{"session": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/claimID"},
                  {"name": "render", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{16,64}$"}, "description": "A nonce of 16-64 lowercase hex digits (400 invalid_field otherwise)."}
                ],
                "responses": {
                  "200": {"description": "The document.", "content": {"text/html": {"schema": {"type": "string"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/confirm": {
              "post": {
                "tags": ["claims"], "summary": "Confirm the plan of the current submission (idempotent).", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                "responses": {
                  "200": {"$ref": "#/components/responses/Claim"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/step": {
              "put": {
                "tags": ["claims"], "summary": "Remember the wizard page the person is on (resume on another device).", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["step"], "properties": {"step": {"type": "integer", "minimum": 1, "maximum": 100}}}}}},
                "responses": {
                  "204": {"description": "Stored."},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/telegram-notice": {
              "get": {
                "tags": ["claims"], "summary": "Whether a Telegram message can be sent when the plan is ready, and whether it was asked for.", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "responses": {
                  "200": {"description": "The offer.", "content": {"application/json": {"schema": {"type": "object", "properties": {"available": {"type": "boolean"}, "requested": {"type": "boolean"}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              },
              "put": {
                "tags": ["claims"], "summary": "Send me a Telegram message when the plan of this submission is ready.", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                "responses": {
                  "200": {"description": "Asked for.", "content": {"application/json": {"schema": {"type": "object", "properties": {"requested": {"const": true}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/cancel": {
              "post": {
                "tags": ["claims"], "summary": "Go back: the claim stays a draft with its answers.", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                "responses": {
                  "200": {"$ref": "#/components/responses/Claim"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/documents": {
              "get": {
                "tags": ["documents"], "summary": "The documents step: one slot per document of the confirmed plan, with its files; whether the documents can be sent.", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "responses": {
                  "200": {"description": "Slots and documents.", "content": {"application/json": {"schema": {"type": "object", "properties": {"claim_id": {"type": "string"}, "status": {"type": "string"}, "accepts_uploads": {"type": "boolean"}, "can_submit": {"type": "boolean"}, "missing": {"type": "array", "items": {"type": "string"}}, "limits": {"type": "object", "properties": {"max_bytes": {"type": "integer"}, "max_files": {"type": "integer"}, "content_types": {"type": "array", "items": {"type": "string"}}}}, "slots": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "title": {"type": "string"}, "hint": {"type": ["string", "null"]}, "required": {"type": "boolean"}, "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}}}}}, "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              },
              "post": {
                "tags": ["documents"], "summary": "Upload one file into a slot (multipart/form-data, streamed to disk). The type is decided by the content (PDF, JPEG, PNG, HEIC/HEIF, WebP); the same content in the same slot answers 200 with the existing document.", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "requestBody": {
                  "required": true,
                  "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["field_name", "file"], "properties": {"field_name": {"type": "string", "description": "The slot: a `code` of the plan's `required_documents`."}, "file": {"type": "string", "format": "binary"}}}}}
                },
                "responses": {
                  "200": {"description": "Already stored in this slot.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Document"}}}},
                  "201": {"description": "Stored.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Document"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/documents/submit": {
              "post": {
                "tags": ["documents"], "summary": "Send the documents: every required slot must hold a file; the claim moves to in_work and n8n gets a claim_submitted webhook through the outbox (idempotent).", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}],
                "responses": {
                  "200": {"$ref": "#/components/responses/Claim"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claims/{claim_id}/documents/{document_id}": {
              "get": {
                "tags": ["documents"], "summary": "Download the file (Content-Disposition: attachment with the original name).", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}, {"$ref": "#/components/parameters/documentID"}],
                "responses": {
                  "200": {"description": "The file, in its sniffed media type.", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              },
              "delete": {
                "tags": ["documents"], "summary": "Delete an uploaded file (only before the documents are sent).", "security": [{"session": []}],
                "parameters": [{"$ref": "#/components/parameters/claimID"}, {"$ref": "#/components/parameters/documentID"}],
                "responses": {
                  "204": {"description": "Deleted."},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/v1/claim-plan/{session_token}": {
              "get": {
                "tags": ["claim plan"], "summary": "The claim-plan stream (server-sent events).", "security": [{"session": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/sessionToken"},
                  {"name": "Last-Event-ID", "in": "header", "required": false, "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "One terminal event: claim_plan_ready, claim_plan_error or claim_plan_timeout.", "content": {"text/event-stream": {"schema": {"type": "object", "description": "One server-sent event (heartbeats are comments, not events). `data` is JSON: the plan, or {message}.", "required": ["event", "data"], "properties": {"event": {"enum": ["claim_plan_ready", "claim_plan_error", "claim_plan_timeout"]}, "id": {"type": "string"}, "data": {"type": "string"}, "retry": {"type": "integer"}}}}}},
                  "204": {"description": "Last-Event-ID is the terminal event: nothing more to send."},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "410": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              },
              "post": {
                "tags": ["claim plan"], "summary": "The workflow's signed plan delivery (the HTTP alternative to Redis).", "security": [{"callbackSignature": []}],
                "parameters": [{"$ref": "#/components/parameters/sessionToken"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "The plan payload (docs/claim-plan.md)."}}}},
                "responses": {
                  "200": {"description": "Stored, or already stored.", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"enum": ["stored", "duplicate"]}}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "default": {"$ref": "#/components/responses/Error"}
                }
              }
            }
          }
        }
        """#
}
