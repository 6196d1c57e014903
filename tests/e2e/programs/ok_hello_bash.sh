# Run by /bin/bash on the minbase image: builtins and coreutils only.
greeting="Hello, world!"
printf '%s\n' "$greeting"
