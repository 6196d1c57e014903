program hello
  write(*, "(A)" "Hello, world!"
end program hello
