import FlintCore

/// The OpenAPI 3.1 description of every route, served at `/openapi.json`.
/// A test compares it with the router's routes: a route missing here fails the suite.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Flint",
            "version": "\#(FlintVersion.current)",
            "description": "A self-hosted, Firebase-like backend. Values use Flint's JSON form: plain JSON for null, booleans, strings, arrays and maps; a number without fraction or exponent is an integer, any other a double; {\"$timestamp\": RFC 3339}, {\"$bytes\": base64}, {\"$ref\": document path}, {\"$geo\": [lat, lng]}, {\"$double\": \"NaN\"|\"Infinity\"|\"-Infinity\"}; a map key starting with $ is written $$."
          },
          "servers": [{"url": "http://127.0.0.1:8080"}],
          "paths": {
            "/health": {
              "get": {
                "summary": "Liveness: the process serves HTTP",
                "operationId": "health",
                "responses": {"200": {"description": "Up, with the server's version", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}, "version": {"type": "string"}}}}}}}
              }
            },
            "/ready": {
              "get": {
                "summary": "Readiness: the database answers",
                "operationId": "ready",
                "responses": {
                  "200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ready"}}}}}},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/metrics": {
              "get": {
                "summary": "Prometheus metrics in the text exposition format",
                "operationId": "metrics",
                "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}
              }
            },
            "/openapi.json": {
              "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}}}
              }
            },
            "/v1/documents/{path}": {
              "parameters": [
                {"name": "path", "in": "path", "required": true, "description": "A document path (even number of segments, `rooms/r1`) or a collection path (odd, `rooms` or `rooms/r1/messages`). Slashes separate segments; percent-encode other reserved characters inside an id.", "schema": {"type": "string"}}
              ],
              "get": {
                "summary": "Read a document, or list a collection",
                "operationId": "getDocumentOrList",
                "parameters": [
                  {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}, "description": "A document ETag; 304 when it still matches"},
                  {"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "description": "Collections only: documents per page"},
                  {"name": "pageToken", "in": "query", "schema": {"type": "string"}, "description": "Collections only: the nextPageToken of the previous page"}
                ],
                "responses": {
                  "200": {"description": "The document (document path) or a page of the collection in id order (collection path)", "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}, "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/Document"}, {"$ref": "#/components/schemas/DocumentPage"}]}}}},
                  "304": {"description": "Not modified"},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}
                }
              },
              "put": {
                "summary": "Set a document: replace it with the body's fields, creating it if missing",
                "operationId": "setDocument",
                "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fields"}}}},
                "responses": {
                  "200": {"description": "The document as written", "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Document"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}
                }
              },
              "patch": {
                "summary": "Update a document: merge the body's fields (keys are field paths such as `address.city`); with masks, change exactly the masked fields and delete masked fields absent from the body. Creates the document if missing.",
                "operationId": "updateDocument",
                "parameters": [
                  {"$ref": "#/components/parameters/IfMatch"},
                  {"name": "mask", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true, "description": "Field paths to change, repeated: ?mask=a.b&mask=c"}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fields"}}}},
                "responses": {
                  "200": {"description": "The document as written", "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Document"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}
                }
              },
              "delete": {
                "summary": "Delete a document (deleting a missing one succeeds)",
                "operationId": "deleteDocument",
                "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
                "responses": {
                  "204": {"description": "Deleted"},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"}
                }
              },
              "post": {
                "summary": "Create a document with a generated 20-character id in the collection",
                "operationId": "createDocument",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fields"}}}},
                "responses": {
                  "201": {"description": "Created", "headers": {"Location": {"schema": {"type": "string"}, "description": "/v1/documents/{new path}"}, "ETag": {"$ref": "#/components/headers/ETag"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Document"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/query": {
              "post": {
                "summary": "Run a structured query (Firestore semantics)",
                "operationId": "query",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Query"}}}},
                "responses": {
                  "200": {"description": "The matching documents, in order", "content": {"application/json": {"schema": {"type": "object", "required": ["documents"], "properties": {"documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}}}}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/realtime": {
              "get": {
                "summary": "Realtime WebSocket (upgrade): listen to documents and queries, resume from a sequence, commit writes. Text frames of JSON; the protocol is in sdk-docs/protocol.md (version 1).",
                "operationId": "realtime",
                "parameters": [
                  {"name": "Upgrade", "in": "header", "required": true, "schema": {"const": "websocket"}},
                  {"name": "Sec-WebSocket-Key", "in": "header", "required": true, "schema": {"type": "string"}},
                  {"name": "Sec-WebSocket-Version", "in": "header", "required": true, "schema": {"const": "13"}}
                ],
                "responses": {
                  "101": {"description": "Switching protocols: the WebSocket is open and the server sends hello"},
                  "400": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/files": {
              "get": {
                "summary": "List files like a bucket browser: objects whose paths start with prefix, in byte order of their paths; with a delimiter, deeper paths are rolled up into prefixes (folders). Items and prefixes together fill a page.",
                "operationId": "listFiles",
                "security": [{"bearer": []}],
                "parameters": [
                  {"name": "prefix", "in": "query", "schema": {"type": "string", "default": ""}, "description": "Only paths starting with this, such as rooms/r1/"},
                  {"name": "delimiter", "in": "query", "schema": {"type": "string"}, "description": "Usually /: paths with it after the prefix are rolled up into prefixes"},
                  {"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                  {"name": "pageToken", "in": "query", "schema": {"type": "string"}, "description": "The nextPageToken of the previous page"}
                ],
                "responses": {
                  "200": {"description": "A page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileList"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/files/{path}": {
              "parameters": [
                {"name": "path", "in": "path", "required": true, "description": "The object's path, such as avatars/alice.png: 1 to 1024 bytes of UTF-8, segments separated by /, no empty, . or .. segments, no control characters. Percent-encode reserved characters inside a segment (a colon as %3A).", "schema": {"type": "string"}}
              ],
              "get": {
                "summary": "Download a file (streamed), with a single byte range and conditional requests; or its metadata with ?metadata. A signed link (generation, expires, signature) downloads without a token.",
                "operationId": "downloadFile",
                "security": [{"bearer": []}, {}],
                "parameters": [
                  {"name": "metadata", "in": "query", "allowEmptyValue": true, "schema": {"type": "string"}, "description": "Present: answer with the metadata as JSON instead of the bytes"},
                  {"name": "generation", "in": "query", "schema": {"type": "integer"}, "description": "Signed links: the generation signed for"},
                  {"name": "expires", "in": "query", "schema": {"type": "integer"}, "description": "Signed links: expiry, Unix seconds"},
                  {"name": "signature", "in": "query", "schema": {"type": "string"}, "description": "Signed links: HMAC-SHA256 over path, generation and expiry, base64url"},
                  {"name": "Range", "in": "header", "schema": {"type": "string"}, "description": "bytes=first-last, bytes=first- or bytes=-suffix (one range; several are answered whole)"},
                  {"name": "If-Range", "in": "header", "schema": {"type": "string"}, "description": "The range applies only while the file has this ETag"},
                  {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}, "description": "304 when the file still has one of these ETags"},
                  {"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "412 unless the file has one of these ETags"}
                ],
                "responses": {
                  "200": {"description": "The whole file (or, with ?metadata, its metadata)", "headers": {"ETag": {"$ref": "#/components/headers/FileETag"}, "Content-Disposition": {"schema": {"type": "string"}}, "X-Content-Type-Options": {"schema": {"const": "nosniff"}}}, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}, "application/json": {"schema": {"$ref": "#/components/schemas/FileMetadata"}}}},
                  "206": {"description": "The requested range", "headers": {"Content-Range": {"schema": {"type": "string"}}, "ETag": {"$ref": "#/components/headers/FileETag"}}, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                  "304": {"description": "Not modified"},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"},
                  "416": {"$ref": "#/components/responses/Error"}
                }
              },
              "head": {
                "summary": "The headers a GET would send, without the bytes",
                "operationId": "headFile",
                "security": [{"bearer": []}, {}],
                "responses": {
                  "200": {"description": "The file exists", "headers": {"ETag": {"$ref": "#/components/headers/FileETag"}, "Content-Length": {"schema": {"type": "integer"}}}},
                  "206": {"description": "The range exists"},
                  "304": {"description": "Not modified"},
                  "404": {"description": "No such file"}
                }
              },
              "put": {
                "summary": "Upload a file (simple upload): the body is streamed to disk and becomes visible only when whole. Needs Content-Length; for data of unknown length, or to resume after an interruption, use /v1/uploads (tus).",
                "operationId": "uploadFile",
                "security": [{"bearer": []}],
                "parameters": [
                  {"name": "Content-Type", "in": "header", "schema": {"type": "string", "default": "application/octet-stream"}, "description": "Stored and served back; checked against FLINT_FILE_CONTENT_TYPES"},
                  {"name": "Content-Disposition", "in": "header", "schema": {"type": "string"}, "description": "Stored and served back"},
                  {"name": "Cache-Control", "in": "header", "schema": {"type": "string"}, "description": "Stored and served back"},
                  {"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "* (a file must exist) or an ETag (the file must be that generation), else 412"},
                  {"name": "If-None-Match", "in": "header", "schema": {"const": "*"}, "description": "Create only: 412 if a file exists"}
                ],
                "requestBody": {"required": true, "description": "The bytes. Custom metadata: X-Flint-Meta-<key> headers (keys lowercased).", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {
                  "200": {"description": "Replaced", "headers": {"ETag": {"$ref": "#/components/headers/FileETag"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileMetadata"}}}},
                  "201": {"description": "Created", "headers": {"ETag": {"$ref": "#/components/headers/FileETag"}, "Location": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileMetadata"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "411": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}
                }
              },
              "patch": {
                "summary": "Update a file's metadata: contentType, contentDisposition, cacheControl and customMetadata (merged key by key; null removes). The bytes and the generation stay; metageneration counts up.",
                "operationId": "updateFileMetadata",
                "security": [{"bearer": []}],
                "parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "The file's ETag, else 412"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileMetadataUpdate"}}}},
                "responses": {
                  "200": {"description": "The updated metadata", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileMetadata"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"}
                }
              },
              "delete": {
                "summary": "Delete a file: its metadata and its bytes",
                "operationId": "deleteFile",
                "security": [{"bearer": []}],
                "parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "The file's ETag, else 412"}],
                "responses": {
                  "204": {"description": "Deleted"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"}
                }
              },
              "post": {
                "summary": "Sign a download link: POST /v1/files/{path}:sign (the path parameter ends with :sign). The link downloads this generation without a token until it expires; replacing or deleting the file kills it.",
                "operationId": "signFileLink",
                "security": [{"bearer": []}],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                  "expiresIn": {"type": "integer", "minimum": 1, "description": "Seconds from now (default 3600), at most FLINT_SIGNED_LINK_MAX_LIFETIME"},
                  "expireTime": {"type": "string", "format": "date-time", "description": "Or an absolute expiry (a past one makes a link that is already expired)"}}}}}},
                "responses": {
                  "200": {"description": "The link", "content": {"application/json": {"schema": {"type": "object", "required": ["url", "expireTime", "generation"], "properties": {"url": {"type": "string"}, "expireTime": {"type": "string", "format": "date-time"}, "generation": {"type": "integer"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/uploads": {
              "options": {
                "summary": "tus 1.0: what the server supports (Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm)",
                "operationId": "tusOptions",
                "responses": {"204": {"description": "The capabilities, in headers"}}
              },
              "post": {
                "summary": "tus creation (and creation-with-upload): start a resumable upload. Upload-Metadata carries path (required), contentType (or filetype) and custom metadata, each value base64.",
                "operationId": "tusCreate",
                "security": [{"bearer": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/TusResumable"},
                  {"name": "Upload-Length", "in": "header", "required": true, "schema": {"type": "integer", "minimum": 0}},
                  {"name": "Upload-Metadata", "in": "header", "required": true, "schema": {"type": "string"}, "description": "path <base64>,contentType <base64>,<key> <base64>…"},
                  {"name": "Upload-Checksum", "in": "header", "schema": {"type": "string"}, "description": "With a body: sha1|md5|sha256 <base64 digest>"}
                ],
                "requestBody": {"required": false, "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {
                  "201": {"description": "Created: Location is the upload's URL; Upload-Offset when a body came; Upload-Expires"},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/uploads/{id}": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "head": {
                "summary": "tus: the upload's offset (where to resume), length, metadata and expiry",
                "operationId": "tusHead",
                "security": [{"bearer": []}],
                "parameters": [{"$ref": "#/components/parameters/TusResumable"}],
                "responses": {
                  "200": {"description": "Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires"},
                  "404": {"description": "No such upload (finished, terminated or removed after expiry)"},
                  "410": {"description": "Expired"}
                }
              },
              "patch": {
                "summary": "tus: append bytes at Upload-Offset; the last byte makes the file visible",
                "operationId": "tusPatch",
                "security": [{"bearer": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/TusResumable"},
                  {"name": "Upload-Offset", "in": "header", "required": true, "schema": {"type": "integer", "minimum": 0}},
                  {"name": "Upload-Checksum", "in": "header", "schema": {"type": "string"}, "description": "sha1|md5|sha256 <base64 digest> of this request's bytes"}
                ],
                "requestBody": {"required": true, "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {
                  "204": {"description": "Stored and synced: Upload-Offset is the new offset"},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"description": "Upload-Offset does not match the upload's offset, or another request is writing to it", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                  "410": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "460": {"description": "Checksum mismatch: none of the bytes were kept", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
              },
              "delete": {
                "summary": "tus termination: the upload and its bytes are removed",
                "operationId": "tusTerminate",
                "security": [{"bearer": []}],
                "parameters": [{"$ref": "#/components/parameters/TusResumable"}],
                "responses": {"204": {"description": "Terminated"}, "404": {"$ref": "#/components/responses/Error"}}
              },
              "post": {
                "summary": "tus: PATCH, DELETE or HEAD through X-HTTP-Method-Override, for clients that can only POST",
                "operationId": "tusMethodOverride",
                "security": [{"bearer": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/TusResumable"},
                  {"name": "X-HTTP-Method-Override", "in": "header", "required": true, "schema": {"enum": ["PATCH", "DELETE", "HEAD"]}}
                ],
                "responses": {"204": {"description": "As the overridden method"}, "400": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/auth/signup": {
              "post": {
                "summary": "Create an email/password account and sign in. With an anonymous user's access token, links that user instead (same uid, data kept).",
                "operationId": "signUp",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credentials"}}}},
                "responses": {
                  "201": {"description": "Created and signed in", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}},
                  "200": {"description": "The anonymous user was linked", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/auth/signin": {
              "post": {
                "summary": "Sign in with email and password (rate-limited per account and per address)",
                "operationId": "signIn",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credentials"}}}},
                "responses": {
                  "200": {"description": "Signed in", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "429": {"description": "Too many attempts; Retry-After says when to try again", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
              }
            },
            "/v1/auth/anonymous": {
              "post": {
                "summary": "Create an anonymous user and sign in",
                "operationId": "signInAnonymously",
                "responses": {"201": {"description": "Signed in", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}}}
              }
            },
            "/v1/auth/token": {
              "post": {
                "summary": "OAuth 2.0 token endpoint (RFC 6749): grant_type authorization_code (with code_verifier, PKCE S256; an id_token when openid was asked), refresh_token (rotates the refresh token; a reused one revokes its family) or client_credentials (HTTP Basic or form credentials)",
                "operationId": "token",
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["grant_type"], "properties": {
                  "grant_type": {"enum": ["authorization_code", "refresh_token", "client_credentials"]}, "refresh_token": {"type": "string"},
                  "code": {"type": "string"}, "redirect_uri": {"type": "string"}, "code_verifier": {"type": "string"},
                  "client_id": {"type": "string"}, "client_secret": {"type": "string"}, "scope": {"type": "string"}}}}}},
                "responses": {
                  "200": {"description": "Tokens", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}},
                  "400": {"$ref": "#/components/responses/OAuthError"},
                  "401": {"$ref": "#/components/responses/OAuthError"}
                }
              }
            },
            "/v1/auth/signout": {
              "post": {
                "summary": "Sign out: revoke the refresh tokens of the access token's session",
                "operationId": "signOut",
                "security": [{"bearer": []}],
                "responses": {"204": {"description": "Signed out"}, "401": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/auth/userinfo": {
              "get": {
                "summary": "The signed-in user",
                "operationId": "userInfo",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "The user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}, "401": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/.well-known/jwks.json": {
              "get": {
                "summary": "The public keys that verify access tokens (JWK Set, ES256)",
                "operationId": "jwks",
                "responses": {"200": {"description": "JWK Set", "content": {"application/json": {"schema": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"type": "object"}}}}}}}}
              }
            },
            "/v1/admin/users/{uid}": {
              "parameters": [{"name": "uid", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {
                "summary": "A user (admin scope)",
                "operationId": "adminGetUser",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "The user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              },
              "delete": {
                "summary": "Delete a user and revoke their tokens (admin scope)",
                "operationId": "adminDeleteUser",
                "security": [{"bearer": []}],
                "responses": {"204": {"description": "Deleted"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              },
              "patch": {
                "summary": "Disable or enable a user (admin scope); disabling revokes the user's refresh tokens",
                "operationId": "adminUpdateUser",
                "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"disabled": {"type": "boolean"}}}}}},
                "responses": {"200": {"description": "The user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/users/{uid}/claims": {
              "parameters": [{"name": "uid", "in": "path", "required": true, "schema": {"type": "string"}}],
              "put": {
                "summary": "Set a user's custom claims (admin scope); they appear in the user's next tokens",
                "operationId": "adminSetClaims",
                "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "The user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/auth/authorize": {
              "get": {
                "summary": "OAuth 2.0 authorization endpoint (code flow, PKCE S256 required): shows the sign-in and consent page",
                "operationId": "authorizePage",
                "parameters": [
                  {"name": "response_type", "in": "query", "required": true, "schema": {"const": "code"}},
                  {"name": "client_id", "in": "query", "required": true, "schema": {"type": "string"}},
                  {"name": "redirect_uri", "in": "query", "required": true, "schema": {"type": "string"}, "description": "Must equal a registered redirect URI exactly"},
                  {"name": "code_challenge", "in": "query", "required": true, "schema": {"type": "string"}},
                  {"name": "code_challenge_method", "in": "query", "required": true, "schema": {"const": "S256"}},
                  {"name": "scope", "in": "query", "schema": {"type": "string", "default": "openid"}},
                  {"name": "state", "in": "query", "schema": {"type": "string"}},
                  {"name": "nonce", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "The sign-in page", "content": {"text/html": {"schema": {"type": "string"}}}},
                  "302": {"description": "Back to the app with error and state"},
                  "400": {"description": "Unknown client or unregistered redirect URI (shown, never redirected)", "content": {"text/html": {"schema": {"type": "string"}}}}
                }
              },
              "post": {
                "summary": "The sign-in page's form: email, password and the authorization request; redirects back with code and state",
                "operationId": "authorize",
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
                "responses": {
                  "302": {"description": "Back to the app with code and state"},
                  "200": {"description": "The sign-in page again, with the error", "content": {"text/html": {"schema": {"type": "string"}}}},
                  "400": {"description": "Unknown client or unregistered redirect URI", "content": {"text/html": {"schema": {"type": "string"}}}}
                }
              }
            },
            "/v1/auth/revoke": {
              "post": {
                "summary": "Token revocation (RFC 7009): a refresh token and every token of its sign-in; always 200",
                "operationId": "revoke",
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}, "token_type_hint": {"type": "string"}}}}}},
                "responses": {"200": {"description": "Revoked (or unknown)"}, "400": {"$ref": "#/components/responses/OAuthError"}}
              }
            },
            "/v1/auth/introspect": {
              "post": {
                "summary": "Token introspection (RFC 7662), for confidential clients",
                "operationId": "introspect",
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}}}},
                "responses": {
                  "200": {"description": "Whether the token is active, and its claims", "content": {"application/json": {"schema": {"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}}}}},
                  "400": {"$ref": "#/components/responses/OAuthError"},
                  "401": {"$ref": "#/components/responses/OAuthError"}
                }
              }
            },
            "/.well-known/oauth-authorization-server": {
              "get": {"summary": "OAuth 2.0 authorization server metadata (RFC 8414)", "operationId": "oauthMetadata",
                "responses": {"200": {"description": "Metadata", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            },
            "/.well-known/openid-configuration": {
              "get": {"summary": "OpenID Connect discovery", "operationId": "openidConfiguration",
                "responses": {"200": {"description": "Metadata", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            },
            "/v1/admin/clients": {
              "get": {
                "summary": "OAuth clients (admin scope)", "operationId": "adminListClients", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The clients", "content": {"application/json": {"schema": {"type": "object"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              },
              "post": {
                "summary": "Register an OAuth client (admin scope); a confidential client's secret is returned once",
                "operationId": "adminCreateClient", "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                  "name": {"type": "string"}, "redirect_uris": {"type": "array", "items": {"type": "string"}}, "scopes": {"type": "array", "items": {"type": "string"}}, "public": {"type": "boolean"}}}}}},
                "responses": {"201": {"description": "The client, with client_secret for a confidential one", "content": {"application/json": {"schema": {"type": "object"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/clients/{clientID}": {
              "parameters": [{"name": "clientID", "in": "path", "required": true, "schema": {"type": "string"}}],
              "patch": {
                "summary": "Change an OAuth client's name or redirect URIs (admin scope)", "operationId": "adminUpdateClient", "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}, "redirect_uris": {"type": "array", "items": {"type": "string"}}}}}}},
                "responses": {"200": {"description": "The client", "content": {"application/json": {"schema": {"type": "object"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              },
              "delete": {
                "summary": "Delete an OAuth client (admin scope)", "operationId": "adminDeleteClient", "security": [{"bearer": []}],
                "responses": {"204": {"description": "Deleted"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/auth/password": {
              "post": {
                "summary": "Change the signed-in user's password; every other session is signed out",
                "operationId": "changePassword",
                "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["currentPassword", "newPassword"], "additionalProperties": false, "properties": {"currentPassword": {"type": "string"}, "newPassword": {"type": "string"}}}}}},
                "responses": {"204": {"description": "Changed"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "412": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/users": {
              "get": {
                "summary": "Users in uid order, a page at a time (admin scope)", "operationId": "adminListUsers", "security": [{"bearer": []}],
                "parameters": [{"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}, {"name": "pageToken", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "A page of users", "content": {"application/json": {"schema": {"type": "object", "required": ["users"], "properties": {"users": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}, "nextPageToken": {"type": "string"}}}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              },
              "post": {
                "summary": "Create an email/password user (admin scope)", "operationId": "adminCreateUser", "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["email"], "additionalProperties": false, "properties": {"email": {"type": "string"}, "password": {"type": "string"}, "disabled": {"type": "boolean"}}}}}},
                "responses": {"201": {"description": "The user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/keys/rotate": {
              "post": {
                "summary": "Start signing with a new key (admin scope); old keys keep verifying until their tokens expire",
                "operationId": "adminRotateKeys", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The new key id", "content": {"application/json": {"schema": {"type": "object", "properties": {"kid": {"type": "string"}}}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/push/devices": {
              "post": {
                "summary": "Register the caller's device, or update the device with the same platform and token (which then belongs to the caller, without its old topics)",
                "operationId": "registerPushDevice", "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushDeviceRegistration"}}}},
                "responses": {"201": {"description": "Registered", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushDevice"}}}}, "200": {"description": "Updated (and reactivated)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushDevice"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              },
              "get": {
                "summary": "The caller's devices", "operationId": "listPushDevices", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The devices", "content": {"application/json": {"schema": {"type": "object", "required": ["devices"], "properties": {"devices": {"type": "array", "items": {"$ref": "#/components/schemas/PushDevice"}}}}}}}, "401": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/push/devices/{id}": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {
                "summary": "One of the caller's devices (any device for an admin)", "operationId": "getPushDevice", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The device", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushDevice"}}}}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              },
              "delete": {
                "summary": "Unregister a device; its deliveries not yet sent fail", "operationId": "deletePushDevice", "security": [{"bearer": []}],
                "responses": {"204": {"description": "Unregistered"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/push/devices/{id}/topics/{topic}": {
              "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "topic", "in": "path", "required": true, "description": "1 to 900 of A-Z a-z 0-9 - _ . ~ %", "schema": {"type": "string"}}
              ],
              "put": {
                "summary": "Subscribe the device to a topic", "operationId": "subscribePushTopic", "security": [{"bearer": []}],
                "responses": {"204": {"description": "Subscribed"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              },
              "delete": {
                "summary": "Unsubscribe the device from a topic", "operationId": "unsubscribePushTopic", "security": [{"bearer": []}],
                "responses": {"204": {"description": "Unsubscribed"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/push/messages": {
              "post": {
                "summary": "Queue a message (admin or push scope); 202 once it and its deliveries are durably queued",
                "operationId": "sendPushMessage", "security": [{"bearer": []}],
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 255}, "description": "The same key (per sender) never sends twice; same as body.idempotencyKey"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushMessageRequest"}}}},
                "responses": {
                  "202": {"description": "Queued (or, with a key seen before, the earlier message: duplicate is true)", "headers": {"Location": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"type": "object", "required": ["id", "deliveries"], "properties": {"id": {"type": "string"}, "deliveries": {"type": "integer"}, "duplicate": {"type": "boolean"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/push/messages/{id}": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {
                "summary": "A message with the state and attempts of each delivery (its sender or an admin)", "operationId": "getPushMessage", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The message", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushMessage"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/push/webpush/vapid-key": {
              "get": {
                "summary": "The VAPID public key browsers subscribe with (applicationServerKey)", "operationId": "getVapidKey",
                "responses": {"200": {"description": "The key, base64url of the uncompressed P-256 point", "content": {"application/json": {"schema": {"type": "object", "required": ["publicKey"], "properties": {"publicKey": {"type": "string"}}}}}}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/push/dead-letters": {
              "get": {
                "summary": "Deliveries out of attempts, a page at a time (admin scope)", "operationId": "listPushDeadLetters", "security": [{"bearer": []}],
                "parameters": [{"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}, {"name": "pageToken", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "A page of dead letters", "content": {"application/json": {"schema": {"type": "object", "required": ["deadLetters"], "properties": {"deadLetters": {"type": "array", "items": {"$ref": "#/components/schemas/PushDelivery"}}, "nextPageToken": {"type": "string"}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/push/dead-letters/retry": {
              "post": {
                "summary": "Queue every dead letter again with a fresh set of attempts (admin scope)", "operationId": "retryAllPushDeadLetters", "security": [{"bearer": []}],
                "responses": {"200": {"description": "How many were queued", "content": {"application/json": {"schema": {"type": "object", "properties": {"retried": {"type": "integer"}}}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/push/dead-letters/{id}/retry": {
              "parameters": [{"name": "id", "in": "path", "required": true, "description": "The delivery id", "schema": {"type": "string"}}],
              "post": {
                "summary": "Queue one dead letter again with a fresh set of attempts (admin scope)", "operationId": "retryPushDeadLetter", "security": [{"bearer": []}],
                "responses": {"200": {"description": "Queued", "content": {"application/json": {"schema": {"type": "object", "properties": {"retried": {"type": "integer"}}}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/rules/{service}": {
              "parameters": [{"$ref": "#/components/parameters/RulesService"}],
              "put": {
                "summary": "Deploy a rules file (admin scope): validated (every error with line and column in error.details), compiled, then swapped in atomically; kept as a new release",
                "operationId": "adminDeployRules", "security": [{"bearer": []}],
                "parameters": [{"name": "dryRun", "in": "query", "schema": {"type": "boolean"}, "description": "Only validate; deploy nothing"}],
                "requestBody": {"required": true, "content": {"text/plain": {"schema": {"type": "string", "description": "The rules file, as for Firebase (rules_version = '2'; service cloud.firestore { ... })"}}}},
                "responses": {
                  "200": {"description": "With dryRun: the rules are valid", "content": {"application/json": {"schema": {"type": "object", "properties": {"valid": {"const": true}, "service": {"type": "string"}}}}}},
                  "201": {"description": "The new live release", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RulesRelease"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}
                }
              },
              "get": {
                "summary": "The live release with its source (admin scope)",
                "operationId": "adminGetRules", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The live release", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RulesRelease"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/rules/{service}/releases": {
              "parameters": [{"$ref": "#/components/parameters/RulesService"}],
              "get": {
                "summary": "Every release of a service, newest (the live one) first (admin scope)",
                "operationId": "adminListRulesReleases", "security": [{"bearer": []}],
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
                "responses": {"200": {"description": "The releases, without their sources", "content": {"application/json": {"schema": {"type": "object", "required": ["releases"], "properties": {"releases": {"type": "array", "items": {"$ref": "#/components/schemas/RulesRelease"}}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/rules/{service}/releases/{id}": {
              "parameters": [{"$ref": "#/components/parameters/RulesService"}, {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
              "get": {
                "summary": "One release with its source (admin scope)",
                "operationId": "adminGetRulesRelease", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The release", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RulesRelease"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/export": {
              "get": {
                "summary": "Export documents as NDJSON, one per line in name order (admin scope): {path, data, createTime, updateTime} with values in Flint's JSON form. Read page by page; not a snapshot of one instant",
                "operationId": "adminExport", "security": [{"bearer": []}],
                "parameters": [
                  {"name": "collection", "in": "query", "schema": {"type": "string"}, "description": "Only this collection's documents (default: every document)"},
                  {"name": "allDescendants", "in": "query", "schema": {"type": "boolean"}, "description": "With collection: also every document nested below its documents"}
                ],
                "responses": {"200": {"description": "The documents, streamed", "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/admin/import": {
              "post": {
                "summary": "Import NDJSON as an export writes it (admin scope): each line sets its document (path and data; times are the import's), committed in batches of at most 500, so importing again gives the same documents. A bad line is a 400 naming it; the lines before it are imported (error.details: {line, imported})",
                "operationId": "adminImport", "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": {
                  "200": {"description": "Imported", "content": {"application/json": {"schema": {"type": "object", "required": ["imported", "commits", "lines"], "properties": {"imported": {"type": "integer"}, "commits": {"type": "integer"}, "lines": {"type": "integer"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/v1/admin/rules/{service}/releases/{id}/rollback": {
              "parameters": [{"$ref": "#/components/parameters/RulesService"}, {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
              "post": {
                "summary": "Roll back: deploy that release's source again, as a new live release (admin scope)",
                "operationId": "adminRollbackRules", "security": [{"bearer": []}],
                "responses": {"201": {"description": "The new live release", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RulesRelease"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/auth/providers/{id}/start": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {
                "summary": "Sign in with an external provider: takes the parameters of /v1/auth/authorize and redirects to the provider",
                "operationId": "providerStart",
                "responses": {"302": {"description": "To the provider's authorization endpoint"}, "400": {"description": "Unknown client or redirect URI", "content": {"text/html": {"schema": {"type": "string"}}}}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/auth/providers/{id}/callback": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {
                "summary": "The provider's redirect back: verifies the provider's answer, links the user, and sends the app a Flint authorization code",
                "operationId": "providerCallback",
                "responses": {"302": {"description": "To the app's redirect URI with code and state (or error)"}, "400": {"description": "Unknown or expired sign-in", "content": {"text/html": {"schema": {"type": "string"}}}}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/v1/commit": {
              "post": {
                "summary": "Apply up to 500 writes atomically: all or nothing",
                "operationId": "commit",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Commit"}}}},
                "responses": {
                  "200": {"description": "Committed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CommitResult"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "412": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            }
          },
          "components": {
            "headers": {
              "ETag": {"description": "The document's version, quoted: \"42\"", "schema": {"type": "string"}},
              "FileETag": {"description": "The file's generation, quoted: \"17\"", "schema": {"type": "string"}}
            },
            "parameters": {
              "RulesService": {"name": "service", "in": "path", "required": true, "schema": {"enum": ["firestore", "storage"]}, "description": "firestore: the rules of documents (service cloud.firestore); storage: of files (service firebase.storage)"},
              "IfMatch": {"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "A document ETag (the write applies only at that version, else 412) or * (the document must exist, else 404)"},
              "TusResumable": {"name": "Tus-Resumable", "in": "header", "required": true, "schema": {"const": "1.0.0"}, "description": "The tus version; 412 otherwise"}
            },
            "responses": {
              "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
              "OAuthError": {"description": "An OAuth 2.0 error (RFC 6749 section 5.2)", "content": {"application/json": {"schema": {"type": "object", "required": ["error"], "properties": {"error": {"enum": ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"]}, "error_description": {"type": "string"}}}}}}
            },
            "securitySchemes": {
              "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "An access token from /v1/auth (ES256; keys at /.well-known/jwks.json)"}
            },
            "schemas": {
              "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                  "code": {"enum": ["invalid-argument", "not-found", "already-exists", "failed-precondition", "aborted", "permission-denied", "unauthenticated", "resource-exhausted", "out-of-range", "unavailable", "internal"]},
                  "message": {"type": "string", "description": "What is wrong and how to fix it"},
                  "details": {}
                }}}
              },
              "Value": {"description": "A value in Flint's JSON form (see info.description)"},
              "RulesRelease": {"type": "object", "required": ["id", "service", "sha256", "createTime"], "properties": {
                "id": {"type": "integer"}, "service": {"enum": ["firestore", "storage"]}, "sha256": {"type": "string", "description": "Of the source, hex"},
                "createTime": {"type": "string", "format": "date-time"}, "deployedBy": {"type": ["string", "null"], "description": "The uid or client id that deployed it; null when loaded from --rules-dir"},
                "rollbackOf": {"type": ["integer", "null"], "description": "For a rollback, the release it repeats"}, "source": {"type": "string", "description": "The rules file (when one release is read)"}}},
              "FileMetadata": {
                "type": "object",
                "required": ["path", "name", "size", "contentType", "md5Hash", "sha256", "etag", "generation", "metageneration", "customMetadata", "createTime", "updateTime", "uploader"],
                "properties": {
                  "path": {"type": "string", "examples": ["avatars/alice.png"]},
                  "name": {"type": "string", "description": "The last segment of the path"},
                  "size": {"type": "integer"},
                  "contentType": {"type": "string"},
                  "md5Hash": {"type": "string", "description": "base64"},
                  "sha256": {"type": "string", "description": "hex"},
                  "etag": {"type": "string", "description": "The generation, quoted"},
                  "generation": {"type": "integer", "description": "Changes, and never repeats, whenever the bytes are written"},
                  "metageneration": {"type": "integer", "description": "Counts metadata updates within a generation, from 1"},
                  "customMetadata": {"type": "object", "additionalProperties": {"type": "string"}},
                  "contentDisposition": {"type": "string"},
                  "cacheControl": {"type": "string"},
                  "createTime": {"type": "string", "format": "date-time"},
                  "updateTime": {"type": "string", "format": "date-time"},
                  "uploader": {"type": ["string", "null"], "description": "The uid that uploaded this generation"}
                }
              },
              "FileMetadataUpdate": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "contentType": {"type": "string"},
                  "contentDisposition": {"type": ["string", "null"]},
                  "cacheControl": {"type": ["string", "null"]},
                  "customMetadata": {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}}
                }
              },
              "FileList": {
                "type": "object",
                "required": ["items", "prefixes"],
                "properties": {
                  "items": {"type": "array", "items": {"$ref": "#/components/schemas/FileMetadata"}},
                  "prefixes": {"type": "array", "items": {"type": "string"}, "description": "With a delimiter: the folders, each ending with it"},
                  "nextPageToken": {"type": "string", "description": "Present when more follow"}
                }
              },
              "Credentials": {"type": "object", "required": ["email", "password"], "additionalProperties": false, "properties": {"email": {"type": "string", "format": "email"}, "password": {"type": "string", "minLength": 8}}},
              "PushDeviceRegistration": {
                "type": "object", "required": ["platform"], "additionalProperties": false,
                "description": "apns: token is the device token in hex; fcm: the registration token; webhook: any recipient id; webpush: subscription is the browser's PushSubscription",
                "properties": {
                  "platform": {"enum": ["apns", "fcm", "webpush", "webhook"]},
                  "token": {"type": "string"},
                  "subscription": {"type": "object", "required": ["endpoint", "keys"], "properties": {"endpoint": {"type": "string"}, "expirationTime": {}, "keys": {"type": "object", "required": ["p256dh", "auth"], "properties": {"p256dh": {"type": "string"}, "auth": {"type": "string"}}}}},
                  "appId": {"type": "string"}, "locale": {"type": "string"},
                  "uid": {"type": "string", "description": "Admins only: register for this user"}
                }
              },
              "PushDevice": {
                "type": "object", "required": ["id", "uid", "platform", "token", "active", "topics", "createTime", "updateTime"],
                "properties": {
                  "id": {"type": "string"}, "uid": {"type": "string"}, "platform": {"enum": ["apns", "fcm", "webpush", "webhook"]}, "token": {"type": "string"},
                  "appId": {"type": "string"}, "locale": {"type": "string"}, "active": {"type": "boolean"}, "inactiveReason": {"type": "string"},
                  "topics": {"type": "array", "items": {"type": "string"}}, "createTime": {"type": "string", "format": "date-time"}, "updateTime": {"type": "string", "format": "date-time"}
                }
              },
              "PushTarget": {
                "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": false,
                "properties": {"device": {"type": "string"}, "uid": {"type": "string"}, "topic": {"type": "string"}}
              },
              "PushMessageRequest": {
                "type": "object", "required": ["to"], "additionalProperties": false,
                "properties": {
                  "to": {"oneOf": [{"$ref": "#/components/schemas/PushTarget"}, {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/components/schemas/PushTarget"}}]},
                  "notification": {"type": "object", "additionalProperties": false, "properties": {"title": {"type": "string"}, "body": {"type": "string"}, "badge": {"type": "integer", "minimum": 0}, "sound": {"type": "string"}, "image": {"type": "string"}}},
                  "data": {"type": "object"},
                  "priority": {"enum": ["high", "normal"], "default": "high"},
                  "ttl": {"type": "integer", "minimum": 0, "maximum": 2419200, "description": "Seconds the push services keep trying"},
                  "collapseKey": {"type": "string", "maxLength": 64},
                  "idempotencyKey": {"type": "string", "maxLength": 255}
                }
              },
              "PushDelivery": {
                "type": "object", "required": ["id", "message", "device", "platform", "state", "attempts", "updateTime"],
                "properties": {
                  "id": {"type": "string"}, "message": {"type": "string"}, "device": {"type": "string"}, "platform": {"type": "string"},
                  "state": {"enum": ["queued", "sending", "delivered", "failed", "dead"]}, "attempts": {"type": "integer"}, "lastError": {"type": "string"},
                  "nextAttemptTime": {"type": "string", "format": "date-time"}, "updateTime": {"type": "string", "format": "date-time"}, "deliverTime": {"type": "string", "format": "date-time"}
                }
              },
              "PushMessage": {
                "type": "object", "required": ["id", "sender", "content", "to", "createTime", "state", "counts", "deliveries"],
                "properties": {
                  "id": {"type": "string"}, "sender": {"type": "string"}, "content": {"type": "object"}, "to": {"type": "array", "items": {"$ref": "#/components/schemas/PushTarget"}},
                  "createTime": {"type": "string", "format": "date-time"}, "state": {"enum": ["pending", "done"]},
                  "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                  "deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/PushDelivery"}}
                }
              },
              "User": {"type": "object", "required": ["uid", "provider", "anonymous", "disabled", "claims", "createTime"], "properties": {
                "uid": {"type": "string"}, "sub": {"type": "string"}, "email": {"type": ["string", "null"]}, "provider": {"type": "string"},
                "anonymous": {"type": "boolean"}, "disabled": {"type": "boolean"}, "claims": {"type": "object"}, "createTime": {"type": "string", "format": "date-time"}}},
              "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in"], "properties": {
                "access_token": {"type": "string", "description": "A JWT (ES256) for Authorization: Bearer"}, "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer"}, "refresh_token": {"type": "string", "description": "Opaque; single use: each refresh returns the next"},
                "scope": {"type": "string"}, "user": {"$ref": "#/components/schemas/User"}}},
              "Fields": {"type": "object", "description": "A document's fields: field name to value", "additionalProperties": {"$ref": "#/components/schemas/Value"}},
              "Document": {
                "type": "object",
                "required": ["path", "id", "data", "createTime", "updateTime", "version"],
                "properties": {
                  "path": {"type": "string", "examples": ["rooms/r1"]},
                  "id": {"type": "string"},
                  "data": {"$ref": "#/components/schemas/Fields"},
                  "createTime": {"type": "string", "format": "date-time"},
                  "updateTime": {"type": "string", "format": "date-time"},
                  "version": {"type": "integer", "description": "The sequence number of the commit that last wrote the document"}
                }
              },
              "DocumentPage": {
                "type": "object",
                "required": ["documents"],
                "properties": {
                  "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
                  "nextPageToken": {"type": "string", "description": "Present when more documents follow"}
                }
              },
              "Filter": {
                "oneOf": [
                  {"type": "object", "required": ["field", "op", "value"], "additionalProperties": false, "properties": {
                    "field": {"type": "string", "description": "A field path, or __name__"},
                    "op": {"enum": ["==", "!=", "<", "<=", ">", ">=", "in", "not-in", "array-contains", "array-contains-any"]},
                    "value": {"$ref": "#/components/schemas/Value"}}},
                  {"type": "object", "required": ["and"], "additionalProperties": false, "properties": {"and": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Filter"}}}},
                  {"type": "object", "required": ["or"], "additionalProperties": false, "properties": {"or": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Filter"}}}}
                ]
              },
              "Query": {
                "type": "object",
                "required": ["collection"],
                "additionalProperties": false,
                "properties": {
                  "collection": {"type": "string", "description": "A collection path; with allDescendants, its last segment is the collection id searched for below the rest"},
                  "allDescendants": {"type": "boolean", "default": false},
                  "where": {"$ref": "#/components/schemas/Filter"},
                  "orderBy": {"type": "array", "items": {"type": "object", "required": ["field"], "additionalProperties": false, "properties": {"field": {"type": "string"}, "direction": {"enum": ["asc", "desc"], "default": "asc"}}}},
                  "limit": {"type": "integer", "minimum": 0},
                  "limitToLast": {"type": "integer", "minimum": 0},
                  "startAt": {"type": "array", "items": {"$ref": "#/components/schemas/Value"}},
                  "startAfter": {"type": "array", "items": {"$ref": "#/components/schemas/Value"}},
                  "endAt": {"type": "array", "items": {"$ref": "#/components/schemas/Value"}},
                  "endBefore": {"type": "array", "items": {"$ref": "#/components/schemas/Value"}}
                }
              },
              "Precondition": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": false,
                "properties": {"exists": {"type": "boolean"}, "updateTime": {"type": "string", "format": "date-time"}, "version": {"type": "integer"}}
              },
              "Transform": {
                "type": "object",
                "required": ["field"],
                "minProperties": 2,
                "maxProperties": 2,
                "additionalProperties": false,
                "properties": {
                  "field": {"type": "string"},
                  "serverTimestamp": {"const": true},
                  "increment": {"type": "number"},
                  "maximum": {"type": "number"},
                  "minimum": {"type": "number"},
                  "arrayUnion": {"type": "array"},
                  "arrayRemove": {"type": "array"},
                  "delete": {"const": true}
                }
              },
              "Write": {
                "type": "object",
                "required": ["op", "path"],
                "additionalProperties": false,
                "properties": {
                  "op": {"enum": ["set", "update", "delete"]},
                  "path": {"type": "string"},
                  "data": {"$ref": "#/components/schemas/Fields"},
                  "merge": {"type": "boolean", "description": "set only: merge the fields into the document"},
                  "mask": {"type": "array", "items": {"type": "string"}, "description": "update only: the field paths to change"},
                  "transforms": {"type": "array", "items": {"$ref": "#/components/schemas/Transform"}},
                  "precondition": {"$ref": "#/components/schemas/Precondition"}
                }
              },
              "Commit": {
                "type": "object",
                "required": ["writes"],
                "additionalProperties": false,
                "properties": {
                  "writes": {"type": "array", "minItems": 1, "maxItems": 500, "items": {"$ref": "#/components/schemas/Write"}},
                  "mutationId": {"type": "string", "minLength": 1, "maxLength": 128, "description": "The client's id for this commit (1 to 128 bytes; the SDK sends a UUID). A commit with an id the same caller already had applied is not applied again: the answer is the first one's result. Kept as long as the change log (FLINT_CHANGE_LOG_RETENTION)."}
                }
              },
              "CommitResult": {
                "type": "object",
                "required": ["version", "commitTime", "writeResults"],
                "properties": {
                  "version": {"type": "integer", "description": "The commit's sequence number"},
                  "commitTime": {"type": "string", "format": "date-time"},
                  "writeResults": {"type": "array", "items": {"type": "object", "required": ["path", "exists", "updateTime", "version"], "properties": {
                    "path": {"type": "string"}, "exists": {"type": "boolean"}, "updateTime": {"type": "string", "format": "date-time"}, "version": {"type": "integer"}}}}
                }
              }
            }
          }
        }
        """#
}
