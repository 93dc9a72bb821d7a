"""Print the snapshot's JSON Schema, generated from the model: `python -m fleet.schema`."""
import json

from fleet.model import json_schema

if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, sort_keys=True))
