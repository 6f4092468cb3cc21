"""Request and response shapes of the value import API; inputs refuse unknown fields."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from service_hub.value.imports import KINDS, MAX_RECORDS

MAX_PAGE = 100


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class UploadForm(_Strict):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"description": "transactions or revenue"})


class UploadFiles(_Strict):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": "the CSV file"})


class JobListArgs(_Strict):
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_PAGE))
    before = fields.Integer(validate=validate.Range(min=1), metadata={"description": "next_before of the previous page"})


class ImportErrorSchema(Schema):
    line = fields.Integer(allow_none=True, metadata={"description": "1-based line in the file (the header is line 1)"})
    reason = fields.String()
    raw = fields.String(metadata={"description": "the row as written, at most 200 characters"})


class ImportJobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    sha256 = fields.String()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    total_rows = fields.Integer()
    imported_rows = fields.Integer(metadata={"description": "rows that wrote data: new, and for revenue also changed ARPU"})
    updated_rows = fields.Integer(metadata={"description": "revenue months whose ARPU changed (counted in imported_rows too)"})
    duplicate_rows = fields.Integer()
    rejected_rows = fields.Integer()
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ImportJobDetailSchema(ImportJobSchema):
    errors = fields.List(
        fields.Nested(ImportErrorSchema),
        metadata={"description": "refused rows (first 1,000); a failed job's reason is the last entry"},
    )


class ImportJobPageSchema(Schema):
    items = fields.List(fields.Nested(ImportJobSchema))
    next_before = fields.Integer(allow_none=True)


class RecordsIn(_Strict):
    records = fields.List(
        fields.Dict(keys=fields.String()),
        required=True,
        validate=validate.Length(min=1, max=MAX_RECORDS),
        metadata={"description": "objects with the CSV columns as keys; each is judged on its own"},
    )


class RecordResultSchema(Schema):
    index = fields.Integer()
    status = fields.String(metadata={"description": "created, updated (revenue), duplicate or rejected"})
    reason = fields.String()


class RecordsOutSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    duplicates = fields.Integer()
    rejected = fields.Integer()
    results = fields.List(fields.Nested(RecordResultSchema))
