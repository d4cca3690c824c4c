from newsner.cli import app

app(prog_name="newsner")
