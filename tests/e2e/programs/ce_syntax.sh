if true; then
    echo "no fi"
