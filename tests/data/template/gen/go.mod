module dmtemplategen

go 1.19
